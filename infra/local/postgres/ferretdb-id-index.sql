-- Run by infra/local/up.sh in FerretDB's database on every start (idempotent).
--
-- FerretDB v1 finds a document by `_id` with `WHERE _jsonb->'_id' @> $value` (containment, as its
-- filters must also match array members), but indexes `_id` with a btree on `_jsonb->'_id'`, which
-- `@>` cannot use: every findOne/update by `_id` read the whole table (30-50 ms per lookup in a
-- 2,500-order collection, growing with it). A GIN index on the same expression serves `@>`. FerretDB
-- creates a table per collection at any time, so an event trigger adds the index to each new table.
-- (FerretDB also passes the key as a parameter, `_jsonb->$1`: only custom plans can match the
-- index, hence plan_cache_mode=force_custom_plan on this server, see up.sh.)

CREATE OR REPLACE FUNCTION crm_ferretdb_index_id(target regclass) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = target AND attname = '_jsonb' AND NOT attisdropped) THEN
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb->''_id'') jsonb_path_ops)',
      left((SELECT relname FROM pg_class WHERE oid = target), 50) || '_id_containment', target);
  END IF;
END
$fn$;

CREATE OR REPLACE FUNCTION crm_ferretdb_on_create_table() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  created record;
BEGIN
  FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    PERFORM crm_ferretdb_index_id(created.objid::regclass);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS crm_ferretdb_id_index;
CREATE EVENT TRIGGER crm_ferretdb_id_index ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION crm_ferretdb_on_create_table();

-- Tables created before the trigger existed.
SELECT count(crm_ferretdb_index_id(c.oid)) AS tables
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema');
