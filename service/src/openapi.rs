//! The OpenAPI 3 document of the HTTP API, served at `/openapi.json`.
//!
//! Written as a table of operations rather than derived from annotations
//! on the handlers: the handlers take raw query strings and bodies so that
//! every error names its parameter, which derive macros cannot describe;
//! a test checks the table against the router both ways (every documented
//! operation answers, every route is documented).

use serde_json::{json, Map, Value};

use crate::auth::Role;

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    /// In the path (`{name}`).
    Path,
    /// In the query string.
    Query,
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// Where it goes.
    pub at: In,
    /// Its JSON Schema type (`number`, `integer`, `string`, `boolean`).
    pub ty: &'static str,
    /// Whether it must be given.
    pub required: bool,
    /// What it means.
    pub about: &'static str,
    /// An example value (used by the tests to call the operation).
    pub example: &'static str,
}

const fn q(
    name: &'static str,
    ty: &'static str,
    required: bool,
    about: &'static str,
    example: &'static str,
) -> Param {
    Param {
        name,
        at: In::Query,
        ty,
        required,
        about,
        example,
    }
}

const fn p(name: &'static str, about: &'static str, example: &'static str) -> Param {
    Param {
        name,
        at: In::Path,
        ty: "string",
        required: true,
        about,
        example,
    }
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (`/health`, this document).
    Open,
    /// Readers: anyone, or any token when reads need one.
    Read,
    /// A bearer token of this role (or admin), for an action named in
    /// words ("adding a facility"): refusals name it.
    Role(Role, &'static str),
}

/// What a request or response body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// JSON.
    Json,
    /// A GeoJSON Feature.
    Feature,
    /// A GeoJSON FeatureCollection.
    Features,
    /// A PNG image.
    Png,
    /// A Mapbox Vector Tile.
    Mvt,
    /// Prometheus text.
    Text,
    /// A file's bytes.
    File,
    /// An HTML page.
    Html,
}

/// One operation.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// `get`, `post`, `put` or `delete`.
    pub method: &'static str,
    /// The path, with `{name}` for path parameters.
    pub path: &'static str,
    /// Its group.
    pub tag: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Its parameters.
    pub params: &'static [Param],
    /// Its request body, if it takes one.
    pub request: Option<Body>,
    /// Its answer when it succeeds, and the status.
    pub answer: (u16, Option<Body>),
    /// Who may call it.
    pub access: Access,
}

const LON: Param = q(
    "lon",
    "number",
    true,
    "longitude (CGCS2000, or the datum's)",
    "120.1",
);
const LAT: Param = q(
    "lat",
    "number",
    true,
    "latitude (CGCS2000, or the datum's)",
    "30.15",
);
const DATUM: Param = q(
    "datum",
    "string",
    false,
    "gcj02 or bd09: the point is converted to CGCS2000",
    "gcj02",
);
const COMMUNITY: Param = q(
    "community",
    "string",
    false,
    "a 12-digit community code",
    "339001001001",
);
const ID: Param = p("id", "the store id", "1");

const fn op(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    params: &'static [Param],
) -> Operation {
    Operation {
        method,
        path,
        tag,
        summary,
        params,
        request: None,
        answer: (200, Some(Body::Json)),
        access: Access::Read,
    }
}

impl Operation {
    const fn body(mut self, request: Body) -> Self {
        self.request = Some(request);
        self
    }

    const fn answers(mut self, status: u16, body: Option<Body>) -> Self {
        self.answer = (status, body);
        self
    }

    const fn role(mut self, role: Role, action: &'static str) -> Self {
        self.access = Access::Role(role, action);
        self
    }

    const fn open(mut self) -> Self {
        self.access = Access::Open;
        self
    }
}

/// A component's 16-digit code in the path.
const CODE16: Param = p("code", "the component's 16-digit code", "3390010118000001");

/// Every operation of the API.
pub const OPERATIONS: &[Operation] = &[
    op("get", "/health", "service", "Liveness, the store and feature counts", &[]).open(),
    op("get", "/openapi.json", "service", "This document", &[]).open(),
    op("get", "/", "web", "The web map (HTML page; its files under /web/)", &[]).open().answers(200, Some(Body::Html)),
    op("get", "/web/palette.json", "web", "The risk palette the tiles are drawn with, for the web map's legend", &[]).open(),
    op("get", "/web/{file}", "web", "A file of the web map: app.js, app.css, maplibre-gl.css (text/javascript, text/css)", &[
        p("file", "the file", "app.js"),
    ]).open().answers(200, Some(Body::File)),
    op("get", "/metrics", "service", "Prometheus metrics: requests and latency per route, tile cache", &[])
        .answers(200, Some(Body::Text)),
    op("get", "/api/v1/locate", "places", "The district, subdistrict, community, unit cell, household grid (with its worker and leader to a token of any role) and every overlay zone holding a point", &[LON, LAT, DATUM]),
    op("get", "/api/v1/zones", "places", "Overlay layers (police beats, fire districts, school-safety zones…) with their validation: codes used twice and, for complete layers, gaps and overlaps in m²", &[]),
    op("get", "/api/v1/zones/{layer}", "places", "The zones of one overlay layer", &[
        p("layer", "the layer's name", "police_beats"),
    ]).answers(200, Some(Body::Features)),
    op("get", "/api/v1/components", "components", "Components (部件), by 16-digit code", &[
        q("cell", "string", false, "only those in this unit cell", "339001001001001"),
        q("grid", "string", false, "only those in this household grid", "339001001001002"),
        q("class", "string", false, "only this 4-digit class", "0118"),
        q("state", "string", false, "only this state (good, damaged, missing, occupied, retired)", "damaged"),
        q("limit", "integer", false, "how many features (1–10000, default 1000)", "100"),
    ]).answers(200, Some(Body::Features)),
    op("get", "/api/v1/components/counts", "components", "Components counted per unit cell, household grid, class or state, each with its count per class", &[
        q("by", "string", false, "cell, grid, class (default) or state", "grid"),
        q("class", "string", false, "only this 4-digit class", "0118"),
        q("state", "string", false, "only this state", "damaged"),
    ]),
    op("post", "/api/v1/components", "components", "Store a component; its code is numbered in its district and class when not given, its cell computed", &[])
        .body(Body::Feature).answers(201, Some(Body::Feature)).role(Role::Planner, "adding a component"),
    op("get", "/api/v1/components/{code}", "components", "One component, with its cell and grid", &[CODE16]).answers(200, Some(Body::Feature)),
    op("put", "/api/v1/components/{code}", "components", "Replace or move a component; its cell follows", &[CODE16])
        .body(Body::Feature).answers(200, Some(Body::Feature)).role(Role::Planner, "changing or moving a component"),
    op("delete", "/api/v1/components/{code}", "components", "Delete a component", &[CODE16])
        .answers(204, None).role(Role::Planner, "deleting a component"),
    op("post", "/api/v1/assign", "places", "Case assignment: for a point and a 4-digit class code, the cell, grid, worker and leader (to a token of any role), department, deadline on the working calendar, escalation level and nearest responders (stores nothing; see docs/assign.md)", &[])
        .body(Body::Json),
    op("get", "/api/v1/hotspots", "places", "Cells or grids with the most incidents in a time window, or the largest growth over the window before", &[
        q("from", "string", true, "start of the window: a date or an RFC 3339 time", "2026-06-01"),
        q("to", "string", true, "end of the window (exclusive)", "2026-07-01"),
        q("by", "string", false, "cell (default) or grid", "grid"),
        q("class", "string", false, "only incidents of this kind or class code", "fire"),
        q("top", "integer", false, "how many places (1–1000, default 10)", "5"),
        q("rank", "string", false, "count (default) or growth", "growth"),
    ]),
    op("get", "/api/v1/care", "grids", "People cared for by grid workers: counts per household grid and group only", &[
        q("grid", "string", false, "one grid's code", "339001001001002"),
    ]),
    op("get", "/api/v1/nearest", "responders", "Nearest responders by straight line or by road travel time", &[
        LON, LAT, DATUM,
        q("kind", "string", false, "facility kinds, comma-separated (fire_station, hospital, police…)", "fire_station"),
        q("k", "integer", false, "how many (1–100, default 5)", "3"),
        q("by", "string", false, "distance (default) or time", "time"),
        q("max_m", "number", false, "farthest distance, metres", "20000"),
    ]),
    op("get", "/api/v1/coverage", "responders", "Share of cells, households and risk-weighted cells a kind of station reaches in time, and the uncovered cells", &[
        q("kind", "string", false, "the station kind (default fire_station)", "fire_station"),
        q("minutes", "number", false, "the time allowed (default 5)", "5"),
        q("turnout_s", "number", false, "turnout time before driving, seconds", "60"),
        q("isochrones", "boolean", false, "include each station's reach as polygons", "false"),
        q("buffer_m", "number", false, "width of the isochrone polygons around reached roads", "150"),
        q("bbox", "string", false, "list only the uncovered cells meeting west,south,east,north", "120.0,30.0,120.2,30.2"),
        q("limit", "integer", false, "uncovered cells listed, most urgent first (0–10000, default 1000); numberMatched counts them all", "1000"),
        q("offset", "integer", false, "uncovered cells skipped before the list", "0"),
    ]),
    op("get", "/api/v1/h3", "places", "Households or incidents per H3 hexagon", &[
        q("resolution", "integer", false, "H3 resolution", "9"),
        q("value", "string", false, "households or incidents", "households"),
    ]),
    op("get", "/api/v1/risk", "risk", "Risk level, score and factors of the cell holding a point", &[LON, LAT, DATUM]),
    op("get", "/api/v1/risk/counts", "risk", "Cells per risk level in every area of a level", &[
        q("level", "string", false, "district, subdistrict, community or grid", "community"),
    ]),
    op("get", "/api/v1/places", "risk", "The territory's places (neighbouring communities with cells), most cells first: name, bounds, cells", &[]),
    op("get", "/api/v1/hazards/{id}/impact", "risk", "Cells, grids and communities in a hazard's zone, with households and vulnerable places", &[ID]),
    op("post", "/api/v1/facilities", "features", "Store a facility", &[])
        .body(Body::Feature).answers(201, Some(Body::Feature)).role(Role::Dispatcher, "adding a facility"),
    op("get", "/api/v1/facilities/{id}", "features", "One facility", &[ID]).answers(200, Some(Body::Feature)),
    op("put", "/api/v1/facilities/{id}", "features", "Replace a facility", &[ID])
        .body(Body::Feature).answers(200, Some(Body::Feature)).role(Role::Dispatcher, "changing a facility"),
    op("delete", "/api/v1/facilities/{id}", "features", "Delete a facility", &[ID])
        .answers(204, None).role(Role::Dispatcher, "deleting a facility"),
    op("post", "/api/v1/hazards", "features", "Store a hazard", &[])
        .body(Body::Feature).answers(201, Some(Body::Feature)).role(Role::Dispatcher, "adding a hazard"),
    op("get", "/api/v1/hazards/{id}", "features", "One hazard", &[ID]).answers(200, Some(Body::Feature)),
    op("put", "/api/v1/hazards/{id}", "features", "Replace a hazard", &[ID])
        .body(Body::Feature).answers(200, Some(Body::Feature)).role(Role::Dispatcher, "changing a hazard"),
    op("delete", "/api/v1/hazards/{id}", "features", "Delete a hazard", &[ID])
        .answers(204, None).role(Role::Dispatcher, "deleting a hazard"),
    op("get", "/api/v1/grids", "grids", "Active household grids (workers' and leaders' names and phones to a token of any role)", &[COMMUNITY]).answers(200, Some(Body::Features)),
    op("get", "/api/v1/grids/summary", "grids", "Per community: households, bounds, grids outside them, grids without a worker", &[COMMUNITY]),
    op("get", "/api/v1/grids/{code}", "grids", "One household grid (workers' and leaders' names and phones to a token of any role)", &[p("code", "the 15-digit grid code", "339001001001001")])
        .answers(200, Some(Body::Feature)),
    op("post", "/api/v1/grids/validate", "grids", "Validate proposed grids (households, bounds, contiguity, gaps, overlaps, cut buildings)", &[COMMUNITY])
        .body(Body::Features),
    op("get", "/api/v1/grids/edits", "grids", "The log of grid edits, with their authors and the grids before and after (workers' and leaders' names and phones)", &[COMMUNITY])
        .role(Role::Planner, "reading the grid edit log"),
    op("post", "/api/v1/grids/edits", "grids", "Edit grids (move_cell, move_building, redraw, merge, split, assign); refused with 422 and the violations when a rule breaks", &[
        COMMUNITY,
        q("dry_run", "boolean", false, "validate only, store nothing", "true"),
    ]).body(Body::Json).answers(201, Some(Body::Json)).role(Role::Planner, "editing household grids"),
    op("post", "/api/v1/grids/edits/{id}/revert", "grids", "Revert an edit (409 when its grids changed since)", &[ID])
        .body(Body::Json).answers(201, Some(Body::Json)).role(Role::Planner, "reverting a grid edit"),
    op("get", "/api/v1/audit", "service", "The audit log of writes, newest first", &[
        q("limit", "integer", false, "entries per page (1–1000, default 100)", "10"),
        q("offset", "integer", false, "entries to skip", "0"),
        q("layer", "string", false, "only this layer", "facilities"),
        q("actor", "string", false, "only this token's writes", "root"),
        q("action", "string", false, "only this action", "create"),
    ]).role(Role::Admin, "reading the audit log"),
    op("post", "/api/v1/imports", "service", "Import a file (any format GDAL reads from one file; zipped Shapefiles as .zip) in one transaction, then reload; 413 past the uncompressed-size or feature bound, naming it", &[
        q("name", "string", true, "the file's name with its extension", "roads.geojson"),
        q("repair", "boolean", false, "make invalid polygons valid instead of refusing the file", "false"),
        q("replace_empty", "boolean", false, "let a file with no features remove what an earlier import of the same name brought (else 400)", "false"),
    ]).body(Body::File).answers(201, Some(Body::Json)).role(Role::Admin, "importing a file"),
    op("get", "/ogc", "ogc", "OGC API Features landing page", &[]),
    op("get", "/ogc/conformance", "ogc", "OGC API Features conformance classes", &[]),
    op("get", "/ogc/collections", "ogc", "Collections: cells, grids, facilities, hazards, components, zones", &[]),
    op("get", "/ogc/collections/{id}", "ogc", "One collection", &[p("id", "cells, grids, facilities or hazards", "cells")]),
    op("get", "/ogc/collections/{id}/items", "ogc", "Features of a collection (the grids' workers and leaders to a token of any role)", &[
        p("id", "cells, grids, facilities or hazards", "cells"),
        q("bbox", "string", false, "west,south,east,north", "120.0,30.0,120.2,30.2"),
        q("limit", "integer", false, "features per page (default 100, at most 10,000)", "10"),
        q("offset", "integer", false, "features to skip", "0"),
    ]).answers(200, Some(Body::Features)),
    op("get", "/ogc/collections/{id}/items/{fid}", "ogc", "One feature of a collection", &[
        p("id", "cells, grids, facilities or hazards", "facilities"),
        p("fid", "the feature's id", "1"),
    ]).answers(200, Some(Body::Feature)),
    op("get", "/tiles/{file}", "tiles", "TileJSON 3 of a layer (risk.json, heat.json, cells.json, grids.json, facilities.json, hazards.json, base.json)", &[
        p("file", "the layer's TileJSON", "risk.json"),
    ]),
    op("get", "/tiles/{layer}/{z}/{x}/{file}", "tiles", "A tile: risk and heat as PNG ({y}.png or {y}@2x.png), cells, grids, facilities, hazards, components, zones and base as MVT ({y}.mvt)", &[
        p("layer", "risk, heat, cells, grids, facilities, hazards, components, zones or base", "risk"),
        p("z", "zoom 0–22", "14"),
        p("x", "column", "13700"),
        p("file", "row and format: {y}.png, {y}@2x.png or {y}.mvt", "6700.png"),
        q("of", "string", false, "heat: incidents (default) or hazards", "incidents"),
        q("kind", "string", false, "heat: only these kinds, comma-separated", "fire"),
        q("from", "string", false, "heat: incidents from this time (ISO 8601)", "2026-01-01T00:00:00Z"),
        q("to", "string", false, "heat: incidents before this time (ISO 8601)", "2026-12-31T00:00:00Z"),
    ]).answers(200, Some(Body::Png)),
];

fn media(body: Body) -> (&'static str, Value) {
    match body {
        Body::Json => ("application/json", json!({"type": "object"})),
        Body::Feature => (
            "application/geo+json",
            json!({"$ref": "#/components/schemas/Feature"}),
        ),
        Body::Features => (
            "application/geo+json",
            json!({"$ref": "#/components/schemas/FeatureCollection"}),
        ),
        Body::Png => ("image/png", json!({"type": "string", "format": "binary"})),
        Body::Mvt => (
            "application/vnd.mapbox-vector-tile",
            json!({"type": "string", "format": "binary"}),
        ),
        Body::Text => ("text/plain", json!({"type": "string"})),
        Body::File => (
            "application/octet-stream",
            json!({"type": "string", "format": "binary"}),
        ),
        Body::Html => ("text/html", json!({"type": "string"})),
    }
}

fn content(body: Body) -> Value {
    let (ty, schema) = media(body);
    let mut c = json!({ ty: { "schema": schema } });
    if body == Body::Png {
        let (mvt, schema) = media(Body::Mvt);
        c[mvt] = json!({ "schema": schema });
    }
    c
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    })
}

fn operation(o: &Operation) -> Value {
    let params: Vec<Value> = o
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "in": if p.at == In::Path { "path" } else { "query" },
                "required": p.required,
                "description": p.about,
                "schema": {"type": p.ty},
                "example": p.example,
            })
        })
        .collect();
    let mut responses = Map::new();
    let (status, body) = o.answer;
    let mut ok = json!({"description": "success"});
    if let Some(b) = body {
        ok["content"] = content(b);
    }
    responses.insert(status.to_string(), ok);
    responses.insert(
        "400".into(),
        problem("a parameter or the body is malformed; detail names it"),
    );
    if o.access != Access::Open {
        responses.insert(
            "404".into(),
            problem("nothing has this id or code, or no area of the territory holds the point"),
        );
        responses.insert(
            "409".into(),
            problem("the loaded data cannot answer (no unit cells, no roads), or an edit's grids changed since"),
        );
    }
    if o.path.starts_with("/api/v1/grids/edits") {
        responses.insert(
            "422".into(),
            json!({"description": "the edit breaks a rule: the report names the violations", "content": content(Body::Json)}),
        );
    }
    if o.access != Access::Open {
        responses.insert(
            "401".into(),
            problem("no token, or an unknown one (when needed)"),
        );
    }
    if let Access::Role(..) = o.access {
        responses.insert(
            "403".into(),
            problem("the token's role does not allow this; detail names the action and the role it needs"),
        );
    }
    if let (Access::Role(..), false) = (o.access, o.method == "get") {
        responses.insert(
            "507".into(),
            problem("the disk under the store is full; nothing was written"),
        );
    }
    if o.request.is_some() {
        responses.insert(
            "413".into(),
            problem("the body is larger than the server's limit"),
        );
    }
    responses.insert(
        "503".into(),
        problem("the store is unavailable, or the request took too long"),
    );
    let mut out = json!({
        "tags": [o.tag],
        "summary": o.summary,
        "operationId": format!("{}{}", o.method, o.path.replace(['/', '{', '}', '.'], "_")),
        "parameters": params,
        "responses": responses,
    });
    if let Some(b) = o.request {
        out["requestBody"] = json!({"required": true, "content": content(b)});
    }
    match o.access {
        Access::Open => out["security"] = json!([]),
        Access::Role(role, action) => {
            let mut first = action.chars();
            let action: String = first
                .next()
                .map(char::to_uppercase)
                .into_iter()
                .flatten()
                .chain(first)
                .collect();
            out["description"] = json!(format!(
                "{action} needs a bearer token with the role {}.",
                role.granted_by()
            ));
            out["security"] = json!([{"bearer": []}]);
        }
        Access::Read => {}
    }
    out
}

/// The action in words of the operation `method` (`get`, `post`…, either
/// case) on the route `path` (`{name}` for parameters) that needs a role.
pub fn action(method: &str, path: &str) -> Option<&'static str> {
    OPERATIONS
        .iter()
        .filter(|o| o.method.eq_ignore_ascii_case(method) && o.path == path)
        .find_map(|o| match o.access {
            Access::Role(_, action) => Some(action),
            _ => None,
        })
}

/// The OpenAPI 3.0 document of every operation in [`OPERATIONS`].
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let entry = paths.entry(o.path).or_insert_with(|| json!({}));
        entry[o.method] = operation(o);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "civgrid",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Unit cells (万米单元网格), household grids (全科网格), responders, risk and tiles of a territory. Errors are application/problem+json (RFC 9457) with a detail naming the problem.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                    },
                },
                "Feature": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                        "geometry": {"type": "object", "nullable": true},
                        "properties": {"type": "object", "nullable": true},
                    },
                },
                "FeatureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
                    },
                },
            },
        },
        "security": [{}, {"bearer": []}],
    })
}
