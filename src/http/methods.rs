//! `405 Method Not Allowed` (with `Allow`) for a path the service serves with other methods.
//! actix answers a method no route takes exactly like an unknown path (404); the fallback
//! service asks this table first. The table is the OpenAPI document's paths, so the two
//! cannot disagree, plus the pages and console calls the document does not describe.

use utoipa::openapi::OpenApi;

/// Routes outside the OpenAPI document: (path template, methods).
const UNDOCUMENTED: &[(&str, &[&str])] = &[
    ("/openapi.json", &["GET"]),
    ("/docs", &["GET"]),
    ("/c/assets/{file}", &["GET"]),
    ("/c/{link}", &["GET"]),
    ("/console", &["GET"]),
    ("/console/", &["GET"]),
    ("/console/assets/{file}", &["GET"]),
    ("/console/api/setup/start", &["POST"]),
    ("/console/api/setup/finish", &["POST"]),
    ("/console/api/sign-in", &["POST"]),
    ("/console/api/sign-out", &["POST"]),
    ("/console/api/me", &["GET"]),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: any one non-empty segment.
    Any,
}

#[derive(Debug, Clone)]
struct Route {
    segments: Vec<Segment>,
    methods: Vec<&'static str>,
}

impl Route {
    fn new(template: &str, methods: Vec<&'static str>) -> Self {
        let segments = template
            .split('/')
            .map(|s| if s.starts_with('{') && s.ends_with('}') { Segment::Any } else { Segment::Literal(s.to_owned()) })
            .collect();
        Route { segments, methods }
    }

    fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        parts.len() == self.segments.len()
            && self.segments.iter().zip(&parts).all(|(segment, part)| match segment {
                Segment::Literal(l) => l == part,
                Segment::Any => !part.is_empty(),
            })
    }
}

/// Every served path template with its methods.
#[derive(Debug, Clone)]
pub struct Routes(Vec<Route>);

impl Routes {
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let mut routes: Vec<Route> = doc
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                Route::new(template, methods)
            })
            .collect();
        routes.extend(UNDOCUMENTED.iter().map(|(template, methods)| Route::new(template, methods.to_vec())));
        Routes(routes)
    }

    /// The methods `path` is served with (`"GET, POST"`), or `None` for a path nobody serves.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let mut methods: Vec<&str> =
            self.0.iter().filter(|r| r.matches(path)).flat_map(|r| r.methods.iter().copied()).collect();
        if methods.is_empty() {
            return None;
        }
        methods.sort_unstable();
        methods.dedup();
        Some(methods.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        Routes(vec![
            Route::new("/v1/verifications", vec!["GET", "POST"]),
            Route::new("/v1/verifications/{id}", vec!["GET"]),
            Route::new("/v1/verifications/{id}/claim", vec!["POST", "DELETE"]),
        ])
    }

    #[test]
    fn a_served_path_names_its_methods() {
        let routes = routes();
        assert_eq!(routes.allowed("/v1/verifications").as_deref(), Some("GET, POST"));
        assert_eq!(routes.allowed("/v1/verifications/abc").as_deref(), Some("GET"));
        assert_eq!(routes.allowed("/v1/verifications/abc/claim").as_deref(), Some("DELETE, POST"));
    }

    #[test]
    fn an_unknown_path_or_an_empty_parameter_is_not_served() {
        let routes = routes();
        assert_eq!(routes.allowed("/v1/verification"), None);
        assert_eq!(routes.allowed("/v1/verifications/"), None);
        assert_eq!(routes.allowed("/v1/verifications/abc/claim/x"), None);
    }

    #[test]
    fn the_openapi_document_and_the_pages_are_in_the_table() {
        use utoipa::OpenApi as _;
        let routes = Routes::from_openapi(&super::super::openapi::ApiDoc::openapi());
        assert_eq!(routes.allowed("/v1/verifications").as_deref(), Some("GET, POST"));
        assert_eq!(routes.allowed("/healthz").as_deref(), Some("GET"));
        assert_eq!(routes.allowed("/console/api/sign-in").as_deref(), Some("POST"));
    }
}
