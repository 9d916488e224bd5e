//! Running a router: on Lambda, or on a local socket.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use cloudim_http::{CallerAddr, InternalInvoke};

/// Starts logging to standard error: JSON on Lambda (or with
/// `CLOUDIM_LOG_FORMAT=json`), human-readable otherwise. The level comes
/// from `RUST_LOG`, else Lambda's `AWS_LAMBDA_LOG_LEVEL` (the function's
/// `LoggingConfig`), else `info`. On Lambda each line carries the
/// invocation's `requestId` (the runtime's span). Log lines never carry
/// bodies, tokens or keys.
pub fn init_tracing() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().map(|l| l.to_ascii_lowercase()).filter(|l| ["trace", "debug", "info", "warn", "error"].contains(&l.as_str()));
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.as_deref().unwrap_or("info").into());
    let on_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"))
        || std::env::var("CLOUDIM_LOG_FORMAT").is_ok_and(|v| v == "json")
        || on_lambda;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr);
    let _ = if json {
        // Lambda stamps each line itself; the span list carries requestId.
        builder.json().flatten_event(true).with_current_span(false).with_span_list(true).without_time().try_init()
    } else {
        builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).try_init()
    };
}

/// Serves a router on a bound listener until the process ends; the caller's
/// address comes from the socket.
pub async fn serve_local(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::map_request(|mut req: Request| async move {
        if let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
            req.extensions_mut().insert(CallerAddr(addr.ip()));
        }
        req
    }));
    // Small responses go out at once instead of waiting on delayed ACKs
    // (Nagle), which would add ~40 ms per hop of a message's path.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    });
    let app = app.layer(axum::middleware::from_fn(access_log));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
}

/// Runs a router as a Lambda function (function URL, API Gateway or ALB
/// events).
pub async fn run_lambda(app: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_router(app)).await
}

/// What the Lambda runner adds to a router: the caller's address from the
/// request context, and the [`InternalInvoke`] mark on fan-out events (a
/// direct invocation whose `apiId` is [`cloudim_store_aws::INTERNAL_API_ID`]).
pub fn lambda_router(app: Router) -> Router {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    app.layer(axum::middleware::map_request(|mut req: Request| async move {
        let (ip, internal) = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => {
                (ctx.http.source_ip.clone(), ctx.apiid.as_deref() == Some(cloudim_store_aws::INTERNAL_API_ID))
            }
            Some(RequestContext::ApiGatewayV1(ctx)) => (ctx.identity.source_ip.clone(), false),
            _ => (None, false),
        };
        if let Some(ip) = ip.and_then(|s| s.parse().ok()) {
            req.extensions_mut().insert(CallerAddr(ip));
        }
        if internal {
            req.extensions_mut().insert(InternalInvoke);
        }
        req
    }))
    .layer(axum::middleware::from_fn(access_log))
}

/// One line per request: method, route (the pattern, never the raw path or
/// query), status and time taken. On Lambda the line also carries the
/// invocation's `requestId`. Bodies and headers are never logged.
async fn access_log(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let method = req.method().clone();
    let route = req.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let route = route.as_deref().unwrap_or("(no route)");
    if status >= 500 {
        tracing::warn!(%method, route, status, ms, "request");
    } else {
        tracing::info!(%method, route, status, ms, "request");
    }
    resp
}
