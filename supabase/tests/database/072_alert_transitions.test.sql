-- Alert state transitions (20251120000200_create_alert_functions.sql): each one guarded, a repeat is a no-op,
-- notices are replaced rather than piled up, deliveries are leased and recorded against the notice they were for.
begin;
select plan(27);

delete from public.alerts;

-- ---------------------------------------------------------------------------------------------------------
-- open
-- ---------------------------------------------------------------------------------------------------------
select isnt(private.open_alert('stuck_parsing', 'critical', 2, 0, '{"oldest_minutes": 12}', '2025-11-20 10:00Z'),
  null, 'open_alert opens an incident');
select is(private.open_alert('stuck_parsing', 'critical', 3, 0, '{}', '2025-11-20 10:01Z'), null,
  'a second open for the same rule is a no-op (one open incident per rule)');
select results_eq(
  $$select notice, notice_seq, notice_value, delivered_at, peak_value from public.alerts where rule = 'stuck_parsing'$$,
  $$values ('fired'::text, 1, 2::numeric, null::timestamptz, 2::numeric)$$,
  'a new incident owes a "fired" notice carrying its value');

-- ---------------------------------------------------------------------------------------------------------
-- claim and record delivery
-- ---------------------------------------------------------------------------------------------------------
select is((select count(*)::int from private.claim_alert_notices(10, '2 minutes', '24 hours', '2025-11-20 10:00:10Z')),
  1, 'claim_alert_notices leases the undelivered notice');
select is((select count(*)::int from private.claim_alert_notices(10, '2 minutes', '24 hours', '2025-11-20 10:00:20Z')),
  0, 'a leased notice is not handed to an overlapping run');
select ok(private.record_alert_delivery(
    (select id from public.alerts where rule = 'stuck_parsing'), 1, false, 'webhook answered 500', true,
    '2025-11-20 10:00:30Z'),
  'a failed delivery is recorded');
select results_eq(
  $$select delivered_at, delivery_error, delivery_attempts, delivery_claimed_until
      from public.alerts where rule = 'stuck_parsing'$$,
  $$values (null::timestamptz, 'webhook answered 500'::text, 1, null::timestamptz)$$,
  'failure: error and attempt recorded, lease released');
select is((select count(*)::int from private.claim_alert_notices(10, '2 minutes', '24 hours', '2025-11-20 10:05Z')),
  1, 'the next run claims the failed notice again (retried next run)');
select ok(private.record_alert_delivery(
    (select id from public.alerts where rule = 'stuck_parsing'), 1, true, null, true, '2025-11-20 10:05:01Z'),
  'a successful delivery is recorded');
select results_eq(
  $$select delivered_at, delivery_error, delivery_attempts, notices_delivered from public.alerts
     where rule = 'stuck_parsing'$$,
  $$values ('2025-11-20 10:05:01Z'::timestamptz, null::text, 2, 1)$$,
  'delivered: time set, error cleared, two attempts in all');
select ok(not private.record_alert_delivery(
    (select id from public.alerts where rule = 'stuck_parsing'), 1, false, 'late timeout', true, now()),
  'a late result for an already delivered notice changes nothing');
select is((select count(*)::int from private.claim_alert_notices(10, '2 minutes', '24 hours', '2025-11-20 10:10Z')),
  0, 'nothing left to claim');

-- ---------------------------------------------------------------------------------------------------------
-- track (no notice) and escalate (a "worse" notice)
-- ---------------------------------------------------------------------------------------------------------
select ok(private.track_alert((select id from public.alerts where rule = 'stuck_parsing'), 3, 0, '{}', false,
  '2025-11-20 10:10Z'), 'track_alert records the value');
select results_eq(
  $$select value, peak_value, notice_seq, delivered_at is not null from public.alerts where rule = 'stuck_parsing'$$,
  $$values (3::numeric, 3::numeric, 1, true)$$,
  'tracking moves value and peak but queues no notice (the cooldown)');
select ok(private.escalate_alert((select id from public.alerts where rule = 'stuck_parsing'), 6, 0, '{}',
  '2025-11-20 10:40Z'), 'escalate_alert queues a worse notice');
select results_eq(
  $$select notice, notice_seq, notice_value, delivered_at, delivery_attempts from public.alerts
     where rule = 'stuck_parsing'$$,
  $$values ('worse'::text, 2, 6::numeric, null::timestamptz, 0)$$,
  'a worse notice resets the delivery state for its own delivery');
select ok(not private.record_alert_delivery(
    (select id from public.alerts where rule = 'stuck_parsing'), 1, true, null, true, now()),
  'a delivery result for the replaced notice (seq 1) does not mark the new one delivered');

-- ---------------------------------------------------------------------------------------------------------
-- clearing and resolve
-- ---------------------------------------------------------------------------------------------------------
select ok(private.track_alert((select id from public.alerts where rule = 'stuck_parsing'), 0, 0, '{}', true,
  '2025-11-20 10:45Z'), 'a clear run marks the alert clearing');
select ok(private.track_alert((select id from public.alerts where rule = 'stuck_parsing'), 0, 0, '{}', true,
  '2025-11-20 10:46Z'), 'a second clear run keeps it clearing');
select is((select clearing_since from public.alerts where rule = 'stuck_parsing'), '2025-11-20 10:45Z'::timestamptz,
  'clearing_since keeps the first clear time');
select is((select notice_value from public.alerts where rule = 'stuck_parsing'), 0::numeric,
  'an undelivered notice carries the latest value (a late message is not stale)');
select ok(private.resolve_alert((select id from public.alerts where rule = 'stuck_parsing'), 0, '{}',
  '2025-11-20 10:50Z'), 'resolve_alert closes the incident');
select results_eq(
  $$select resolved_at, notice, notice_seq, peak_value, clearing_since from public.alerts where rule = 'stuck_parsing'$$,
  $$values ('2025-11-20 10:50Z'::timestamptz, 'resolved'::text, 3, 6::numeric, null::timestamptz)$$,
  'resolved: a resolved notice replaces the undelivered worse one, the peak is kept');
select ok(not private.resolve_alert((select id from public.alerts where rule = 'stuck_parsing'), 0, '{}', now()),
  'resolving twice is a no-op');
select ok(not private.track_alert((select id from public.alerts where rule = 'stuck_parsing'), 5, 0, '{}', false, now()),
  'a resolved incident is never tracked again');
select isnt(private.open_alert('stuck_parsing', 'critical', 1, 0, '{}', '2025-11-20 11:00Z'), null,
  'after resolving, the rule can open a new incident');

-- ---------------------------------------------------------------------------------------------------------
-- old notices are given up
-- ---------------------------------------------------------------------------------------------------------
update public.alerts set notice_queued_at = now() - interval '2 days' where resolved_at is not null;
select is((select count(*)::int from private.claim_alert_notices(10, '2 minutes', '24 hours', now())
            where resolved_at is not null), 0,
  'a notice older than the maximum age is no longer retried (it stays undelivered in the table)');

select * from finish();
rollback;
