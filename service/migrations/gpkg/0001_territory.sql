-- civgrid GeoPackage schema, version 1: the territory model.
-- A valid OGC GeoPackage 1.3 (QGIS and ogrinfo open it); every feature table
-- is registered in gpkg_contents and gpkg_geometry_columns, in EPSG:4490.
PRAGMA application_id = 1196444487;
PRAGMA user_version = 10300;

CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
 ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
 ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
 ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid'),
 ('China Geodetic Coordinate System 2000', 4490, 'EPSG', 4490, 'GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4490"]]', 'CGCS2000 longitude/latitude');

CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);

CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);

CREATE TABLE districts (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL,
  code TEXT NOT NULL UNIQUE, name TEXT NOT NULL);
CREATE TABLE subdistricts (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL,
  code TEXT NOT NULL UNIQUE, name TEXT NOT NULL);
CREATE TABLE communities (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL,
  code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('urban', 'rural')));
CREATE TABLE buildings (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL,
  source TEXT NOT NULL, name TEXT NOT NULL, levels INTEGER, households INTEGER NOT NULL,
  households_estimated BOOLEAN NOT NULL);
CREATE INDEX buildings_source ON buildings(source);
CREATE TABLE facilities (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT NOT NULL,
  source TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, capacity INTEGER, staff INTEGER, contact TEXT);
CREATE INDEX facilities_source ON facilities(source);
CREATE TABLE hazards (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom GEOMETRY NOT NULL,
  source TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, method TEXT NOT NULL, level TEXT NOT NULL,
  lec_l DOUBLE, lec_e DOUBLE, lec_c DOUBLE, likelihood INTEGER, severity INTEGER);
CREATE INDEX hazards_source ON hazards(source);
CREATE TABLE roads (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom LINESTRING NOT NULL,
  source TEXT NOT NULL, class TEXT NOT NULL, name TEXT NOT NULL, speed_kmh DOUBLE, oneway TEXT NOT NULL);
CREATE INDEX roads_source ON roads(source);
CREATE TABLE incidents (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom POINT NOT NULL,
  source TEXT NOT NULL, kind TEXT NOT NULL, time DATETIME NOT NULL);
CREATE INDEX incidents_source ON incidents(source);

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
 ('districts', 'features', 'districts', '区/县 districts', 4490),
 ('subdistricts', 'features', 'subdistricts', '街道/乡镇 subdistricts', 4490),
 ('communities', 'features', 'communities', '社区/村 communities', 4490),
 ('buildings', 'features', 'buildings', '楼栋 buildings with households', 4490),
 ('facilities', 'features', 'facilities', '设施 facilities and responders', 4490),
 ('hazards', 'features', 'hazards', '危险源 hazards', 4490),
 ('roads', 'features', 'roads', '道路 roads', 4490),
 ('incidents', 'features', 'incidents', '事件 incidents', 4490);
INSERT INTO gpkg_geometry_columns VALUES
 ('districts', 'geom', 'MULTIPOLYGON', 4490, 0, 0),
 ('subdistricts', 'geom', 'MULTIPOLYGON', 4490, 0, 0),
 ('communities', 'geom', 'MULTIPOLYGON', 4490, 0, 0),
 ('buildings', 'geom', 'MULTIPOLYGON', 4490, 0, 0),
 ('facilities', 'geom', 'POINT', 4490, 0, 0),
 ('hazards', 'geom', 'GEOMETRY', 4490, 0, 0),
 ('roads', 'geom', 'LINESTRING', 4490, 0, 0),
 ('incidents', 'geom', 'POINT', 4490, 0, 0);
