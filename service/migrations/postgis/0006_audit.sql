-- civgrid PostGIS schema, version 6: the audit log of writes (who, when,
-- what, the feature before and after as GeoJSON), written in the same
-- transaction as the write it records. Version 5 is the case-assignment
-- schema (zones, components).
CREATE TABLE audit (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, actor TEXT NOT NULL,
  role TEXT NOT NULL, action TEXT NOT NULL, layer TEXT NOT NULL, feature_id BIGINT,
  community TEXT, before TEXT, after TEXT);
CREATE INDEX audit_at ON audit(at);
