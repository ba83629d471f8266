//! The HTTP side: the routes, the guard every request passes, and starting the server.

use std::io::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::auth::{self, Granted, Refusal};
use crate::html::{esc, Query};
use crate::state::App;
use crate::{compare, curves, run, table, UiArgs, UiError};

/// The state every handler gets.
#[derive(Debug)]
pub struct Ctx {
    /// The shared state.
    pub app: App,
    /// The port actually bound (for the cookie's name).
    pub port: u16,
}

type Shared = State<Arc<Ctx>>;

fn html(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body)
        .into_response()
}

fn error_response(e: &UiError) -> Response {
    let status = match e {
        UiError::NotShown(_) => StatusCode::NOT_FOUND,
        UiError::BadRequest(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    html(status, crate::html::page("error", &format!("<div class=\"err\" id=\"error\">{}</div>", esc(&e.to_string()))))
}

/// Run `f` off the async threads (it reads files) and answer with its HTML.
async fn blocking(f: impl FnOnce() -> Result<String, UiError> + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(body)) => html(StatusCode::OK, body),
        Ok(Err(e)) => error_response(&e),
        Err(e) => html(StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {}", esc(&e.to_string()))),
    }
}

async fn runs_page(State(ctx): Shared, RawQuery(q): RawQuery) -> Response {
    blocking(move || table::page(&ctx.app, &Query::parse(q.as_deref()))).await
}

async fn runs_table(State(ctx): Shared, RawQuery(q): RawQuery) -> Response {
    blocking(move || table::table_html(&ctx.app, &Query::parse(q.as_deref()))).await
}

fn path_of(q: &Query) -> Result<&str, UiError> {
    q.get("path").ok_or_else(|| UiError::BadRequest("missing `path=`: the run folder".into()))
}

async fn run_page(State(ctx): Shared, RawQuery(q): RawQuery) -> Response {
    blocking(move || {
        let q = Query::parse(q.as_deref());
        let folder = ctx.app.run_folder(path_of(&q)?)?;
        run::page(&ctx.app, &folder, &q, None)
    })
    .await
}

async fn run_live(State(ctx): Shared, RawQuery(q): RawQuery) -> Response {
    blocking(move || {
        let q = Query::parse(q.as_deref());
        run::live_html(&ctx.app.run_folder(path_of(&q)?)?)
    })
    .await
}

async fn run_tail(State(ctx): Shared, RawQuery(q): RawQuery) -> Response {
    blocking(move || {
        let q = Query::parse(q.as_deref());
        Ok(run::tail(&ctx.app.run_folder(path_of(&q)?)?))
    })
    .await
}

async fn charts(State(ctx): Shared, RawQuery(q): RawQuery) -> Response {
    blocking(move || {
        let q = Query::parse(q.as_deref());
        let mut runs = Vec::new();
        let folders: Vec<_> = q.all("runs").iter().map(|r| ctx.app.run_folder(r)).collect::<Result<_, _>>()?;
        let root = table::common_root(folders.iter().filter_map(|f| f.to_str()));
        for f in folders {
            let p = f.display().to_string();
            let label = p.strip_prefix(&root).unwrap_or(&p).to_owned();
            runs.push((f, label));
        }
        Ok(curves::charts_html(&ctx.app, &runs, curves::CurveOpts::from_query(&q)))
    })
    .await
}

async fn compare_page(State(ctx): Shared, RawQuery(q): RawQuery) -> Response {
    blocking(move || compare::page(&ctx.app, &Query::parse(q.as_deref()))).await
}

async fn note(State(ctx): Shared, body: Bytes) -> Response {
    let form = Query::parse(Some(&String::from_utf8_lossy(&body)));
    let res = tokio::task::spawn_blocking(move || {
        let path = path_of(&form)?.to_owned();
        let folder = ctx.app.run_folder(&path)?;
        let text = form.get("text").unwrap_or("");
        match run::note(&folder, text, form.get("remove") == Some("1")) {
            Ok(()) => Ok(Ok(path)),
            Err(e) => {
                let page = run::page(&ctx.app, &folder, &Query::default(), Some(&e.to_string()))?;
                Ok(Err(page))
            }
        }
    })
    .await;
    match res {
        Ok(Ok(Ok(path))) => Redirect::to(&format!("/run?{}", crate::html::param("path", &path))).into_response(),
        Ok(Ok(Err(page))) => html(StatusCode::BAD_REQUEST, page),
        Ok(Err(e)) => error_response(&e),
        Err(e) => html(StatusCode::INTERNAL_SERVER_ERROR, esc(&e.to_string())),
    }
}

async fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        crate::html::page("not found", "<div class=\"err\">No such page. <a href=\"/\">The runs</a>.</div>"),
    )
}

/// The guard of every request: Host, origin and token (see [`crate::auth`]).
async fn guard(State(ctx): Shared, req: Request, next: Next) -> Response {
    let query = req.uri().query().map(str::to_owned);
    match auth::check(&ctx.app, ctx.port, req.method(), req.headers(), query.as_deref()) {
        Ok(Granted::Held) => next.run(req).await,
        Ok(Granted::Query) => {
            let cookie = format!("{}={}; Path=/; HttpOnly; SameSite=Strict", auth::cookie_name(ctx.port), ctx.app.token);
            let mut resp = if req.method() == Method::GET {
                // Drop the token from the address bar (and from the history).
                let rest = Query::parse(query.as_deref()).with("token", &[]).encode();
                let to = if rest.is_empty() { req.uri().path().to_owned() } else { format!("{}?{rest}", req.uri().path()) };
                Redirect::to(&to).into_response()
            } else {
                next.run(req).await
            };
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(Refusal::Host(h)) => (
            StatusCode::BAD_REQUEST,
            format!(
                "refused: the Host header `{h}` does not name this server (accepted: {}); open the URL xmen ui printed",
                ctx.app.hosts.join(", ")
            ),
        )
            .into_response(),
        Err(Refusal::Origin(o)) => {
            (StatusCode::FORBIDDEN, format!("refused: a form sent from another origin ({o})")).into_response()
        }
        Err(Refusal::Token) => html(
            StatusCode::UNAUTHORIZED,
            crate::html::page(
                "token required",
                "<div class=\"err\" id=\"token-required\">This xmen ui needs its token: open the URL it printed at start \
                 (<code>http://127.0.0.1:PORT/?token=...</code>), or send <code>Authorization: token T</code>.</div>",
            ),
        ),
    }
}

/// The routes, behind the guard.
pub fn router(ctx: Arc<Ctx>) -> Router {
    Router::new()
        .route("/", get(runs_page))
        .route("/table", get(runs_table))
        .route("/run", get(run_page))
        .route("/run/live", get(run_live))
        .route("/run/tail", get(run_tail))
        .route("/charts", get(charts))
        .route("/compare", get(compare_page))
        .route("/note", post(note))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(ctx.clone(), guard))
        .with_state(ctx)
}

/// Run `xmen ui` until Ctrl-C: bind, print the URL with the token, serve.
pub fn serve(args: UiArgs) -> Result<(), UiError> {
    let token = match args.token {
        Some(t) => {
            auth::check_token(&t).map_err(UiError::Args)?;
            t
        }
        None => auth::new_token().map_err(|e| UiError::Args(format!("cannot make a random token: {e}")))?,
    };
    let cwd = std::env::current_dir().map_err(UiError::Io)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(UiError::Io)?;
    rt.block_on(async move {
        let addr = format!("{}:{}", args.host, args.port);
        let bind_addr = if args.host.contains(':') && !args.host.starts_with('[') {
            format!("[{}]:{}", args.host, args.port)
        } else {
            addr.clone()
        };
        let listener =
            tokio::net::TcpListener::bind(&bind_addr).await.map_err(|source| UiError::Bind { addr, source })?;
        let port = listener.local_addr().map_err(UiError::Io)?.port();
        let app =
            App::new(crate::config_dir(), &args.paths, &cwd, token.clone(), auth::allowed_hosts(&args.host, port));
        let app_hosts_any = app.hosts.iter().any(|h| h == auth::ANY_HOST);
        let (all, shown, _) = app.folders()?;
        if shown.is_empty() && !args.paths.is_empty() {
            return Err(UiError::Args(format!(
                "none of the {} linked experiments is in {}; give a set folder or a glob of linked runs \
                 (`xmen list PATH` shows the same selection), or no PATHS for every linked run",
                all.len(),
                app.described
            )));
        }
        let shown_host = if args.host == "0.0.0.0" || args.host == "::" { "127.0.0.1" } else { &args.host };
        let shown_host = if shown_host.contains(':') { format!("[{shown_host}]") } else { shown_host.to_owned() };
        println!("xmen ui: {} runs ({}); open", shown.len(), app.described);
        println!("    http://{shown_host}:{port}/?token={token}");
        if args.host != "127.0.0.1" && args.host != "localhost" && args.host != "::1" {
            println!(
                "  (listening on {}: reachable from other machines{}; the token guards every request)",
                args.host,
                if app_hosts_any { ", by any name" } else { "" }
            );
        }
        println!("Ctrl-C stops it.");
        let _ = std::io::stdout().flush();
        let ctx = Arc::new(Ctx { app, port });
        axum::serve(listener, router(ctx))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(UiError::Io)
    })
}
