-- owner: outbound
-- hookline_publish_envelopes: writes a transaction's envelopes to both outboxes in one round trip.
--
-- Outbound deliveries for every enabled endpoint whose filters match, then realtime events, each
-- outbox with its NOTIFY. Call it as the transaction's last statement: the realtime append takes
-- a transaction-scoped advisory lock and draws seq only under it, so seq order is commit order and
-- the lock is held as briefly as possible (see server/outbound/outboxes.ts).
--
-- p_outbound: [{ "type", "account_id", "webhook_id", "payload" }], p_realtime: [{ "account_id",
-- "type", "data" }], both in publication order. The lock key and channel names come from the
-- caller so that the TypeScript constants stay their only definition.
CREATE OR REPLACE FUNCTION hookline_publish_envelopes(
  p_outbound jsonb,
  p_realtime jsonb,
  p_realtime_lock bigint,
  p_realtime_channel text,
  p_deliveries_channel text
) RETURNS TABLE (deliveries integer, realtime_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_deliveries integer := 0;
  v_seq bigint;
BEGIN
  IF jsonb_array_length(p_outbound) > 0 THEN
    INSERT INTO deliveries (webhook_id, endpoint_id, event_type, payload, status)
    SELECT event.value->>'webhook_id', endpoint.id, event.value->>'type', event.value->'payload', 'pending'
    FROM jsonb_array_elements(p_outbound) WITH ORDINALITY AS event(value, ord)
    JOIN endpoints AS endpoint
      ON endpoint.enabled
      AND (endpoint.event_types IS NULL OR event.value->>'type' = ANY (endpoint.event_types))
      AND (endpoint.account_ids IS NULL OR event.value->>'account_id' = ANY (endpoint.account_ids))
    ORDER BY event.ord, endpoint.id
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS v_deliveries = ROW_COUNT;
    IF v_deliveries > 0 THEN
      PERFORM pg_notify(p_deliveries_channel, v_deliveries::text);
    END IF;
  END IF;

  IF jsonb_array_length(p_realtime) > 0 THEN
    PERFORM pg_advisory_xact_lock(p_realtime_lock);
    -- nextval in the target list runs after the ORDER BY, so seq follows publication order.
    WITH appended AS (
      INSERT INTO realtime_events (seq, account_id, type, data)
      SELECT nextval('realtime_seq'), event.value->>'account_id', event.value->>'type', event.value->'data'
      FROM jsonb_array_elements(p_realtime) WITH ORDINALITY AS event(value, ord)
      ORDER BY event.ord
      RETURNING seq
    )
    SELECT max(seq) INTO v_seq FROM appended;
    PERFORM pg_notify(p_realtime_channel, v_seq::text);
  END IF;

  RETURN QUERY SELECT v_deliveries, v_seq;
END;
$$;
