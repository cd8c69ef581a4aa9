-- civgrid GeoPackage schema, version 6: the audit log of writes (who, when,
-- what, the feature before and after as GeoJSON), written in the same
-- transaction as the write it records. Version 5 is the case-assignment
-- schema (zones, components).
CREATE TABLE audit (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, at DATETIME NOT NULL,
  actor TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL, layer TEXT NOT NULL,
  feature_id INTEGER, community TEXT, before TEXT, after TEXT);
CREATE INDEX audit_at ON audit(at);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
 ('audit', 'attributes', 'audit', 'audit log of writes: who, when, what, before and after', NULL);
