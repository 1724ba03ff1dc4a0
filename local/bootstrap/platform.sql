-- Platform bootstrap: what the Supabase Postgres image provides and a plain PostgreSQL 15 lacks.
--
-- Applied by local/db.ts before the migrations, on the project's own cluster only. Every object is
-- created only where the real one is absent, so running this against a `supabase start` database
-- (or twice) changes nothing. Written from the documented behaviour (summarised in
-- docs/LOCAL_STACK.md), not copied: roles, `extensions`, `auth`, `storage`, `vault` and a `net`
-- schema with pg_net's signatures. Never put any of this in supabase/migrations: on Supabase it
-- already exists and belongs to the platform.

\set ON_ERROR_STOP on

-- ---------------------------------------------------------------------------------------------
-- Roles. anon/authenticated are NOLOGIN INHERIT (since 2023); service_role bypasses RLS;
-- authenticator is the login role PostgREST/Storage switch from.
-- ---------------------------------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin inherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin inherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin inherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit password 'postgres';
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_storage_admin') then
    create role supabase_storage_admin nologin noinherit createrole;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
-- The local gateway connects as postgres and switches with SET ROLE, like storage-api's
-- superuser connection; postgres must be able to become each API role.
grant anon, authenticated, service_role to postgres;

alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- ---------------------------------------------------------------------------------------------
-- Schemas.
-- ---------------------------------------------------------------------------------------------
create schema if not exists extensions;
grant usage on schema extensions to public;
grant usage on schema public to anon, authenticated, service_role;

create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

-- Supabase puts `extensions` on the database search_path; pgTAP and gen_random_bytes rely on it.
do $$
begin
  execute format('alter database %I set search_path = "$user", public, extensions', current_database());
end
$$;

-- ---------------------------------------------------------------------------------------------
-- auth: a minimal users table and the JWT claim helpers exactly as supabase/auth defines them.
-- The nullif(…, '') matters: after a SET LOCAL ends, a placeholder GUC reads '' instead of NULL.
-- ---------------------------------------------------------------------------------------------
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create table if not exists auth.users (
  instance_id uuid,
  id uuid primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  raw_app_meta_data jsonb default '{}'::jsonb,
  raw_user_meta_data jsonb default '{}'::jsonb,
  is_anonymous boolean not null default false,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);
grant select on auth.users to service_role;

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
  to anon, authenticated, service_role;

-- Sessions and refresh tokens for the gateway's Auth subset (local/gateway/auth/): the columns GoTrue's
-- tables have that the subset uses. Only the gateway (connected as postgres) reads or writes them.
alter table auth.users add column if not exists last_sign_in_at timestamptz;
create table if not exists auth.sessions (
  id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  refreshed_at timestamp
);
create table if not exists auth.refresh_tokens (
  id bigint generated by default as identity primary key,
  token varchar(255) unique,
  user_id varchar(255),
  revoked boolean,
  parent varchar(255),
  session_id uuid references auth.sessions (id) on delete cascade,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

-- ---------------------------------------------------------------------------------------------
-- storage: buckets and objects with the columns storage-api v1.6x uses. RLS on, no policies:
-- the project's migrations add them, as on Supabase.
-- ---------------------------------------------------------------------------------------------
create schema if not exists storage;
grant usage on schema storage to anon, authenticated, service_role;

create table if not exists storage.buckets (
  id text primary key,
  name text not null,
  owner uuid,
  owner_id text,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  type text not null default 'STANDARD'
);
create unique index if not exists bname on storage.buckets (name);

create table if not exists storage.objects (
  id uuid primary key default gen_random_uuid(),
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  owner_id text,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  user_metadata jsonb
);
-- Columns of storage-api 1.11.2's storage schema that this project never writes (checked against the real
-- server); added only where absent, so this stays a no-op on a Supabase database.
alter table storage.objects add column if not exists archived_at timestamptz;
alter table storage.objects add column if not exists is_delete_marker boolean not null default false;
alter table storage.objects add column if not exists is_versioned boolean not null default false;
alter table storage.buckets add column if not exists versioning_status text;
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);

alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;

grant all on storage.buckets to anon, authenticated, service_role;
grant all on storage.objects to anon, authenticated, service_role;

create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable
as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[1:array_length(_parts, 1) - 1];
end
$$;

create or replace function storage.filename(name text) returns text
language plpgsql immutable
as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[array_length(_parts, 1)];
end
$$;

create or replace function storage.extension(name text) returns text
language plpgsql immutable
as $$
declare
  _parts text[];
  _filename text;
begin
  select string_to_array(name, '/') into _parts;
  select _parts[array_length(_parts, 1)] into _filename;
  return reverse(split_part(reverse(_filename), '.', 1));
end
$$;

grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text)
  to anon, authenticated, service_role;

-- storage-api's BEFORE UPDATE trigger: any update of an object row moves updated_at (an upsert's UPDATE, a move).
-- Created only when absent: on Supabase the function belongs to supabase_storage_admin.
do $$
begin
  if to_regprocedure('storage.update_updated_at_column()') is null then
    create function storage.update_updated_at_column() returns trigger
    language plpgsql
    as $f$
    begin
      new.updated_at = now();
      return new;
    end
    $f$;
  end if;
  if not exists (select 1 from pg_trigger where tgname = 'update_objects_updated_at'
                 and tgrelid = 'storage.objects'::regclass) then
    create trigger update_objects_updated_at before update on storage.objects
      for each row execute function storage.update_updated_at_column();
  end if;
end
$$;

-- storage-api ≥ v1.35: deleting rows directly would orphan the stored bytes, so it is refused
-- unless the Storage API itself set storage.allow_delete_query for its transaction.
create or replace function storage.protect_delete() returns trigger
language plpgsql
as $$
begin
  if coalesce(current_setting('storage.allow_delete_query', true), 'false') <> 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using errcode = '42501',
            hint = 'This prevents accidental data loss from orphaned objects.';
  end if;
  return null;
end
$$;

do $$
begin
  if not exists (select 1 from pg_trigger where tgname = 'protect_objects_delete'
                 and tgrelid = 'storage.objects'::regclass) then
    create trigger protect_objects_delete before delete on storage.objects
      for each statement execute function storage.protect_delete();
  end if;
  if not exists (select 1 from pg_trigger where tgname = 'protect_buckets_delete'
                 and tgrelid = 'storage.buckets'::regclass) then
    create trigger protect_buckets_delete before delete on storage.buckets
      for each statement execute function storage.protect_delete();
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- vault: create_secret / update_secret and the decrypted_secrets view. Locally the secret is
-- stored in clear (documented in docs/LOCAL_STACK.md); the signatures match supabase_vault.
-- ---------------------------------------------------------------------------------------------
create schema if not exists vault;

create table if not exists vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text unique,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create or replace view vault.decrypted_secrets as
  select id, name, description, secret, secret as decrypted_secret, key_id, nonce, created_at, updated_at
    from vault.secrets;

create or replace function vault.create_secret(
  new_secret text, new_name text default null, new_description text default '', new_key_id uuid default null
) returns uuid
language plpgsql
as $$
declare
  _id uuid;
begin
  insert into vault.secrets (secret, name, description, key_id)
  values (new_secret, new_name, coalesce(new_description, ''), new_key_id)
  returning id into _id;
  return _id;
end
$$;

create or replace function vault.update_secret(
  secret_id uuid, new_secret text default null, new_name text default null,
  new_description text default null, new_key_id uuid default null
) returns void
language plpgsql
as $$
begin
  update vault.secrets
     set secret = coalesce(new_secret, secret),
         name = coalesce(new_name, name),
         description = coalesce(new_description, description),
         key_id = coalesce(new_key_id, key_id),
         updated_at = now()
   where id = secret_id;
end
$$;

revoke all on schema vault from public;
revoke all on all tables in schema vault from public;
revoke all on all functions in schema vault from public;
grant usage on schema vault to service_role;
grant select on vault.decrypted_secrets to service_role;

-- ---------------------------------------------------------------------------------------------
-- net: pg_net 0.2x's SQL surface. A row in the UNLOGGED queue is one request; nothing is sent
-- until the caller commits (a rollback discards the row, and NOTIFY is only delivered on commit).
-- The local gateway's worker performs the requests (local/gateway/pg_net_worker.ts); like the
-- real worker it deletes a row before the HTTP call, never retries, and records one response.
-- ---------------------------------------------------------------------------------------------
do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net;
  end if;
end
$$;

create schema if not exists net;

do $$
begin
  if to_regclass('net.http_request_queue') is null then
    create unlogged table net.http_request_queue (
      id bigserial not null,
      method text not null,
      url text not null,
      headers jsonb not null,
      body bytea,
      timeout_milliseconds integer not null
    );
    create index on net.http_request_queue (id);

    create unlogged table net._http_response (
      id bigint,
      status_code integer,
      content_type text,
      headers jsonb,
      content text,
      timed_out boolean,
      error_msg text,
      created timestamptz not null default now()
    );
    create index on net._http_response (created);

    create function net.http_post(
      url text,
      body jsonb default '{}'::jsonb,
      params jsonb default '{}'::jsonb,
      headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
      timeout_milliseconds integer default 5000
    ) returns bigint
    language plpgsql
    as $f$
    declare
      _id bigint;
      _url text := url;
      _content_type text;
    begin
      select value into _content_type from jsonb_each_text(coalesce(headers, '{}'::jsonb))
       where lower(key) = 'content-type';
      if _content_type is not null and _content_type <> 'application/json' then
        raise exception 'Content-Type header must be "application/json"';
      end if;
      if params is not null and params <> '{}'::jsonb then
        _url := _url || case when position('?' in _url) > 0 then '&' else '?' end ||
          (select string_agg(key || '=' || value, '&') from jsonb_each_text(params));
      end if;
      insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
      values ('POST', _url, coalesce(headers, '{}'::jsonb) || '{"Content-Type": "application/json"}'::jsonb,
              convert_to(coalesce(body, 'null'::jsonb)::text, 'UTF8'), timeout_milliseconds)
      returning id into _id;
      perform pg_notify('pg_net_queue', _id::text);
      return _id;
    end
    $f$;

    create function net.http_get(
      url text,
      params jsonb default '{}'::jsonb,
      headers jsonb default '{}'::jsonb,
      timeout_milliseconds integer default 5000
    ) returns bigint
    language plpgsql
    as $f$
    declare
      _id bigint;
      _url text := url;
    begin
      if params is not null and params <> '{}'::jsonb then
        _url := _url || case when position('?' in _url) > 0 then '&' else '?' end ||
          (select string_agg(key || '=' || value, '&') from jsonb_each_text(params));
      end if;
      insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
      values ('GET', _url, coalesce(headers, '{}'::jsonb), null, timeout_milliseconds)
      returning id into _id;
      perform pg_notify('pg_net_queue', _id::text);
      return _id;
    end
    $f$;

    grant usage on schema net to anon, authenticated, service_role;
    grant execute on function net.http_post(text, jsonb, jsonb, jsonb, integer),
      net.http_get(text, jsonb, jsonb, integer) to anon, authenticated, service_role;
    -- pg_net ≥ 0.12 grants the queue and response tables to PUBLIC.
    grant all on net.http_request_queue, net._http_response to public;
    grant usage on sequence net.http_request_queue_id_seq to public;
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- pg_cron lives in the database named by cron.database_name (this one, set by local/db.ts).
-- ---------------------------------------------------------------------------------------------
do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_cron')
     and current_setting('cron.database_name', true) = current_database() then
    create extension if not exists pg_cron;
  end if;
end
$$;

-- pgTAP for `supabase test db`-style files; plpgsql_check for `supabase db lint`.
create extension if not exists pgtap with schema extensions;
do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'plpgsql_check') then
    create extension if not exists plpgsql_check with schema extensions;
  end if;
end
$$;
