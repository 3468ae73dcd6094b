//! The page, embedded in the binary: nothing is fetched from elsewhere (operations
//! networks are often air-gapped) and building kmidi needs no JavaScript toolchain.

/// `(path, content type, body)` of every file the page is made of.
pub const ASSETS: [(&str, &str, &str); 4] = [
    (
        "/",
        "text/html; charset=utf-8",
        include_str!("assets/index.html"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
    (
        "/style.css",
        "text/css; charset=utf-8",
        include_str!("assets/style.css"),
    ),
    (
        "/worklet.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/worklet.js"),
    ),
];

/// The asset at `path` (`/index.html` is `/`): its content type and body.
pub fn find(path: &str) -> Option<(&'static str, &'static str)> {
    let path = if path == "/index.html" { "/" } else { path };
    ASSETS
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, kind, body)| (*kind, *body))
}
