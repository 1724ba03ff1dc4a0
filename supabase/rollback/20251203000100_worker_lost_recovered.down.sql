drop trigger if exists on_worker_loss_recovered on public.conversations;
drop function if exists private.clear_recovered_worker_loss();
