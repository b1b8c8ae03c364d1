-- Each instance keeps the viewers it authenticated for a few seconds (src/auth/authenticate.ts).
-- Any change to what a viewer is made of (the staff row, its memberships, the groups it
-- facilitates) tells every instance, in the writer's own transaction (delivered at its commit):
-- NOTIFY viewer_changed with the staff member's id, or '*' when a table is truncated. Ids only.
create or replace function notify_viewer_changed() returns trigger language plpgsql as $$
begin
  if tg_op = 'TRUNCATE' then
    perform pg_notify('viewer_changed', '*');
  elsif tg_table_name = 'staff' then
    perform pg_notify('viewer_changed', coalesce(new.id, old.id)::text);
  else
    perform pg_notify('viewer_changed', coalesce(new.staff_id, old.staff_id)::text);
  end if;
  return null;
end $$;
--> statement-breakpoint
create trigger staff_viewer_changed after insert or update or delete on staff
  for each row execute function notify_viewer_changed();
--> statement-breakpoint
create trigger staff_memberships_viewer_changed after insert or update or delete on staff_memberships
  for each row execute function notify_viewer_changed();
--> statement-breakpoint
create trigger group_facilitators_viewer_changed after insert or update or delete on group_facilitators
  for each row execute function notify_viewer_changed();
--> statement-breakpoint
create trigger staff_viewer_truncated after truncate on staff
  for each statement execute function notify_viewer_changed();
--> statement-breakpoint
create trigger staff_memberships_viewer_truncated after truncate on staff_memberships
  for each statement execute function notify_viewer_changed();
--> statement-breakpoint
create trigger group_facilitators_viewer_truncated after truncate on group_facilitators
  for each statement execute function notify_viewer_changed();
