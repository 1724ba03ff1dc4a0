-- Removes the monitor's tables. CAUTION: the alert history and any tuned thresholds are lost; keep a copy first
-- (`select * from alert_thresholds` / `alerts`) if they matter.
drop table if exists public.alerts;
drop table if exists public.alert_thresholds;
