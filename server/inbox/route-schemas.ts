import { textResponse } from '../openapi/schemas.js';

const inbox = { tags: ['inbox page'] };

/** The `schema` of the inbox page's routes: a page and its two assets, not JSON. */
export const inboxRouteSchemas = {
  page: {
    ...inbox,
    summary: 'The inbox page (open it with ?token=<connection token>)',
    response: { 200: textResponse('text/html', 'The page') },
  },
  css: {
    ...inbox,
    summary: "The inbox page's stylesheet",
    response: { 200: textResponse('text/css', 'CSS') },
  },
  script: {
    ...inbox,
    summary: "The inbox page's script",
    response: { 200: textResponse('text/javascript', 'An ES module') },
  },
};
