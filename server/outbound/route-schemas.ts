import { z } from 'zod';
import { apiTokenSecurity, errorResponses } from '../openapi/schemas.js';
import {
  createEndpointBody,
  deliveryIdParams,
  deliveryPageResponse,
  deliveryResponse,
  endpointIdParams,
  endpointPageResponse,
  endpointResponse,
  endpointWithSecretResponse,
  eventTypesResponse,
  listDeliveriesQuery,
  listEndpointsQuery,
  recoverBody,
  recoverResponse,
  statsQuery,
  statsResponse,
  testResponse,
  updateEndpointBody,
} from './api-schemas.js';
import { bulkRetryBody, bulkRetryResponse, poolStateResponse, queueStatsResponse } from './queue-schemas.js';

const endpoints = { tags: ['endpoints'], security: apiTokenSecurity };
const deliveries = { tags: ['deliveries'], security: apiTokenSecurity };

/** The `schema` of each outbound route: the zod schemas its handler parses with, and its answers. */
export const outboundRouteSchemas = {
  createEndpoint: {
    ...endpoints,
    summary: 'Create an endpoint; the answer carries its signing secret',
    body: createEndpointBody,
    response: { 201: endpointWithSecretResponse, ...errorResponses(400, 401, 403, 409) },
  },
  listEndpoints: {
    ...endpoints,
    summary: 'List endpoints, oldest first',
    querystring: listEndpointsQuery,
    response: { 200: endpointPageResponse, ...errorResponses(400, 401) },
  },
  getEndpoint: {
    ...endpoints,
    summary: 'Read an endpoint',
    params: endpointIdParams,
    response: { 200: endpointResponse, ...errorResponses(401, 404) },
  },
  updateEndpoint: {
    ...endpoints,
    summary: 'Change an endpoint (only the fields sent)',
    params: endpointIdParams,
    body: updateEndpointBody,
    response: { 200: endpointResponse, ...errorResponses(400, 401, 403, 404) },
  },
  deleteEndpoint: {
    ...endpoints,
    summary: 'Delete an endpoint and its deliveries',
    params: endpointIdParams,
    response: { 204: z.null().describe('Deleted'), ...errorResponses(401, 404) },
  },
  rotateSecret: {
    ...endpoints,
    summary: 'Rotate the signing secret; the previous one keeps signing for an overlap',
    params: endpointIdParams,
    response: { 200: endpointWithSecretResponse, ...errorResponses(401, 404) },
  },
  testEndpoint: {
    ...deliveries,
    summary: 'Send an endpoint.test event now and answer with the attempt',
    params: endpointIdParams,
    response: { 200: testResponse, ...errorResponses(401, 404) },
  },
  listDeliveries: {
    ...deliveries,
    summary: "An endpoint's deliveries, newest first",
    params: endpointIdParams,
    querystring: listDeliveriesQuery,
    response: { 200: deliveryPageResponse, ...errorResponses(400, 401, 404) },
  },
  endpointStats: {
    ...deliveries,
    summary: "An endpoint's success rate, latency and deliveries by status",
    params: endpointIdParams,
    querystring: statsQuery,
    response: { 200: statsResponse, ...errorResponses(400, 401, 404) },
  },
  recoverEndpoint: {
    ...deliveries,
    summary: 'Requeue the failed and dead deliveries created since a time',
    params: endpointIdParams,
    body: recoverBody,
    response: { 202: recoverResponse, ...errorResponses(400, 401, 404) },
  },
  retryDelivery: {
    ...deliveries,
    summary: 'Requeue one delivery',
    params: deliveryIdParams,
    response: { 202: deliveryResponse, ...errorResponses(400, 401, 404, 409) },
  },
  eventTypes: {
    ...deliveries,
    summary: 'The event catalog: every event type with its JSON Schema and an example',
    response: { 200: eventTypesResponse, ...errorResponses(401) },
  },
  pauseEndpoint: {
    ...endpoints,
    summary: 'Pause an endpoint: its deliveries stay queued, nothing is sent or spent',
    params: endpointIdParams,
    response: { 200: endpointResponse, ...errorResponses(401, 404) },
  },
  resumeEndpoint: {
    ...endpoints,
    summary: 'Resume an endpoint: its queue is sent in order of creation',
    params: endpointIdParams,
    response: { 200: endpointResponse, ...errorResponses(401, 404) },
  },
  pausePool: {
    ...deliveries,
    summary: 'Pause the whole worker pool, on every instance',
    response: { 200: poolStateResponse, ...errorResponses(401) },
  },
  resumePool: {
    ...deliveries,
    summary: 'Resume the whole worker pool, on every instance',
    response: { 200: poolStateResponse, ...errorResponses(401) },
  },
  queueStats: {
    ...deliveries,
    summary: 'Queue figures overall and per endpoint: pending, retrying, in flight, dead, age, rate',
    response: { 200: queueStatsResponse, ...errorResponses(401) },
  },
  bulkRetry: {
    ...deliveries,
    summary: 'Requeue dead or failed deliveries in bulk, in batches',
    body: bulkRetryBody,
    response: { 202: bulkRetryResponse, ...errorResponses(400, 401, 404) },
  },
};
