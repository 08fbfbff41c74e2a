//! Authentication helpers for real apps: a bearer-token authenticator that also reads the
//! token from the query string and a cookie (a browser's `EventSource` cannot send headers).

use std::{fmt, future::Future, marker::PhantomData, sync::Arc};

use http::request::Parts;
use sse_hub::{Authenticator, Identity, error::AuthError};

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenSource {
    /// `Authorization: Bearer <token>`.
    Header,
    /// The `token` query parameter.
    Query,
    /// The named cookie.
    Cookie,
}

/// The token of a request, read in order from `Authorization: Bearer`, the `token` query
/// parameter (percent-decoded) and the cookie `cookie`; `None` when there is none (an empty
/// token counts as none).
///
/// # Errors
///
/// 401 `unauthorized` for an `Authorization` header of another scheme than `Bearer`.
///
/// # Examples
///
/// ```
/// use sse_tower::auth::{TokenSource, request_token};
///
/// let (parts, ()) = http::Request::get("/?channels=chat&token=a%2Bb").body(()).unwrap().into_parts();
/// assert_eq!(
///     request_token(&parts, "session").unwrap(),
///     Some(("a+b".to_owned(), TokenSource::Query))
/// );
/// ```
pub fn request_token(
    parts: &Parts,
    cookie: &str,
) -> Result<Option<(String, TokenSource)>, AuthError> {
    if let Some(value) = parts.headers.get(http::header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| {
            AuthError::unauthorized("the Authorization header is not visible ASCII")
        })?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Err(AuthError::unauthorized(
                    "the Authorization header must be Bearer <token>",
                ));
            }
        };
        return Ok((!token.is_empty()).then(|| (token.to_owned(), TokenSource::Header)));
    }
    if let Some(query) = parts.uri.query() {
        if let Some((_, token)) =
            form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == "token")
        {
            return Ok((!token.is_empty()).then(|| (token.into_owned(), TokenSource::Query)));
        }
    }
    let prefix = format!("{cookie}=");
    Ok(parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(&prefix).map(str::to_owned))
        .filter(|token| !token.is_empty())
        .map(|token| (token, TokenSource::Cookie)))
}

/// An [`Authenticator`] for token-based apps: reads the token as [`request_token`] does and
/// hands it to the app's own async lookup, `token -> Result<Option<Identity>, AuthError>`.
/// A request without a token is anonymous (the endpoint decides whether that is allowed).
///
/// The query parameter exists because a browser's `EventSource` cannot send headers; mind
/// that URLs end up in access logs and browser history, so prefer the cookie (or a
/// short-lived token made for the stream) where you can.
///
/// # Examples
///
/// ```
/// use sse_hub::{Identity, UserId, error::AuthError};
/// use sse_tower::{StreamConfig, auth::TokenAuthenticator};
///
/// let auth = TokenAuthenticator::new(|token: String| async move {
///     match token.as_str() {
///         "secret" => Ok(Some(Identity::user(UserId::from(1)))),
///         _ => Err(AuthError::unauthorized("unknown token")),
///     }
/// })
/// .cookie("session");
/// let config = StreamConfig::new([sse_hub::Channel::NOTIFICATIONS]).authenticator(auth);
/// # let _ = config;
/// ```
pub struct TokenAuthenticator<F> {
    lookup: Arc<F>,
    cookie: Arc<str>,
}

impl<F, Fut> TokenAuthenticator<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Identity>, AuthError>> + Send + 'static,
{
    /// Looks tokens up with `lookup`; the cookie is `sse_token` until [`cookie`](Self::cookie)
    /// names another.
    pub fn new(lookup: F) -> Self {
        Self {
            lookup: Arc::new(lookup),
            cookie: Arc::from("sse_token"),
        }
    }

    /// The name of the cookie that may carry the token.
    #[must_use]
    pub fn cookie(mut self, name: &str) -> Self {
        self.cookie = Arc::from(name);
        self
    }
}

impl<F> Clone for TokenAuthenticator<F> {
    fn clone(&self) -> Self {
        Self {
            lookup: Arc::clone(&self.lookup),
            cookie: Arc::clone(&self.cookie),
        }
    }
}

impl<F> fmt::Debug for TokenAuthenticator<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAuthenticator")
            .field("cookie", &self.cookie)
            .finish_non_exhaustive()
    }
}

#[sse_hub::async_trait]
impl<F, Fut> Authenticator for TokenAuthenticator<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Identity>, AuthError>> + Send + 'static,
{
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Identity>, AuthError> {
        match request_token(parts, &self.cookie)? {
            None => Ok(None),
            Some((token, _)) => (self.lookup)(token).await,
        }
    }
}

/// An [`Authenticator`] for apps whose own middleware already puts a user of type `U` in the
/// request extensions: `map` turns it into an [`Identity`]. A request without one is
/// anonymous.
///
/// # Examples
///
/// ```
/// use sse_hub::{Authenticator, Identity, Role, UserId};
/// use sse_tower::auth::identity_from_extension;
///
/// #[derive(Clone)]
/// struct User { id: u64, admin: bool }
///
/// let auth = identity_from_extension(|user: &User| {
///     let identity = Identity::user(UserId::from(user.id));
///     if user.admin { identity.with_role(Role::from_static("admin")) } else { identity }
/// });
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(User { id: 7, admin: true });
/// let (parts, ()) = request.into_parts();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let identity = auth.authenticate(&parts).await.unwrap().unwrap();
/// assert!(identity.has_role("admin"));
/// # });
/// ```
pub fn identity_from_extension<U, F>(map: F) -> FromExtension<U, F>
where
    U: Clone + Send + Sync + 'static,
    F: Fn(&U) -> Identity + Send + Sync + 'static,
{
    FromExtension {
        map,
        _user: PhantomData,
    }
}

/// The authenticator of [`identity_from_extension`].
pub struct FromExtension<U, F> {
    map: F,
    _user: PhantomData<fn() -> U>,
}

impl<U, F> fmt::Debug for FromExtension<U, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromExtension")
            .field("user", &std::any::type_name::<U>())
            .finish_non_exhaustive()
    }
}

#[sse_hub::async_trait]
impl<U, F> Authenticator for FromExtension<U, F>
where
    U: Clone + Send + Sync + 'static,
    F: Fn(&U) -> Identity + Send + Sync + 'static,
{
    async fn authenticate(&self, parts: &Parts) -> Result<Option<Identity>, AuthError> {
        Ok(parts.extensions.get::<U>().map(&self.map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sse_hub::UserId;

    fn parts(request: http::request::Builder) -> Parts {
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_header_comes_first_then_the_query_then_the_cookie() {
        let all = parts(
            http::Request::get("/?token=from-query")
                .header("authorization", "Bearer from-header")
                .header("cookie", "a=1; sid=from-cookie"),
        );
        assert_eq!(
            request_token(&all, "sid").unwrap(),
            Some(("from-header".to_owned(), TokenSource::Header))
        );
        let query_and_cookie = parts(
            http::Request::get("/?channels=x&token=q%20t").header("cookie", "sid=from-cookie"),
        );
        assert_eq!(
            request_token(&query_and_cookie, "sid").unwrap(),
            Some(("q t".to_owned(), TokenSource::Query))
        );
        let cookie = parts(http::Request::get("/").header("cookie", "a=1; sid=c; b=2"));
        assert_eq!(
            request_token(&cookie, "sid").unwrap(),
            Some(("c".to_owned(), TokenSource::Cookie))
        );
        assert_eq!(request_token(&cookie, "other").unwrap(), None);
        assert_eq!(
            request_token(&parts(http::Request::get("/?token=")), "sid").unwrap(),
            None
        );
        let basic = parts(http::Request::get("/").header("authorization", "Basic YWJj"));
        assert_eq!(
            request_token(&basic, "sid").unwrap_err().status(),
            http::StatusCode::UNAUTHORIZED
        );
    }

    #[tokio::test]
    async fn the_lookup_decides_and_no_token_is_anonymous() {
        let auth = TokenAuthenticator::new(|token: String| async move {
            match token.as_str() {
                "good" => Ok(Some(Identity::user(UserId::from(1)))),
                _ => Err(AuthError::unauthorized("unknown token")),
            }
        });
        let good = parts(http::Request::get("/").header("authorization", "bearer good"));
        assert_eq!(
            auth.authenticate(&good).await.unwrap().unwrap().user_id(),
            Some(&UserId::from(1))
        );
        let bad = parts(http::Request::get("/?token=bad"));
        assert_eq!(
            auth.authenticate(&bad).await.unwrap_err().to_string(),
            "unknown token"
        );
        assert_eq!(
            auth.authenticate(&parts(http::Request::get("/")))
                .await
                .unwrap(),
            None
        );
    }
}
