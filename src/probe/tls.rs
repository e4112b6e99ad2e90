//! TLS for the source probe: libpq's `sslmode` semantics on rustls (no OpenSSL).
//!
//! | sslmode | encryption | certificate check |
//! |---|---|---|
//! | disable | never | - |
//! | allow, prefer (default) | if the server offers it | none (as libpq) |
//! | require | always | none, unless `sslrootcert` is given or `~/.postgresql/root.crt` exists: then as verify-ca |
//! | verify-ca | always | chain to a trusted root |
//! | verify-full | always | chain and host name |
//!
//! Trusted roots: `sslrootcert=FILE` (PEM), `sslrootcert=system` (the Mozilla roots bundled in
//! migtop), else `~/.postgresql/root.crt`.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Why TLS cannot be set up as the DSN asks; the text never holds the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(pub String);

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    /// Parses libpq's names (exactly: libpq refuses `REQUIRE` or ` require`).
    pub fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// Where trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// `sslrootcert` not given: libpq's default file, used only if it exists.
    Default(Option<PathBuf>),
    /// `sslrootcert=FILE`.
    File(PathBuf),
    /// `sslrootcert=system`.
    System,
}

/// The tokio-postgres TLS mode and connector for a libpq `sslmode`.
pub fn connector(
    mode: SslMode,
    root: &RootCert,
) -> Result<(tokio_postgres::config::SslMode, MakeRustlsConnect), TlsError> {
    use tokio_postgres::config::SslMode as Pg;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (pg_mode, verifier): (Pg, Arc<dyn ServerCertVerifier>) = match mode {
        SslMode::Disable => (Pg::Disable, Arc::new(NoVerify(provider.clone()))),
        SslMode::Allow | SslMode::Prefer => (Pg::Prefer, Arc::new(NoVerify(provider.clone()))),
        SslMode::Require => match roots(root, mode)? {
            Some(r) => (Pg::Require, chain_only(r, &provider)?),
            None => (Pg::Require, Arc::new(NoVerify(provider.clone()))),
        },
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let r = roots(root, mode)?.ok_or_else(|| {
                TlsError(format!(
                    "sslmode={} needs trusted root certificates: set sslrootcert=FILE, or sslrootcert=system for the public CAs ({} does not exist)",
                    if mode == SslMode::VerifyCa { "verify-ca" } else { "verify-full" },
                    match root {
                        RootCert::Default(Some(p)) => p.display().to_string(),
                        _ => "~/.postgresql/root.crt".into(),
                    }
                ))
            })?;
            if mode == SslMode::VerifyCa {
                (Pg::Require, chain_only(r, &provider)?)
            } else {
                (Pg::Require, full(r, &provider)?)
            }
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((pg_mode, MakeRustlsConnect::new(config)))
}

/// The trusted roots, or `None` when no root file is configured (and libpq's default is absent).
fn roots(root: &RootCert, mode: SslMode) -> Result<Option<Arc<RootCertStore>>, TlsError> {
    let file = match root {
        RootCert::System => {
            return Ok(Some(Arc::new(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })));
        }
        RootCert::File(p) => p.clone(),
        RootCert::Default(Some(p)) if p.is_file() => p.clone(),
        RootCert::Default(_) => return Ok(None),
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&file)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            TlsError(format!(
                "cannot read the root certificates in {} (sslrootcert, sslmode={mode:?}): {e}",
                file.display()
            ))
        })?;
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(TlsError(format!(
            "{} holds no usable PEM certificate (sslrootcert)",
            file.display()
        )));
    }
    Ok(Some(Arc::new(store)))
}

fn full(
    roots: Arc<RootCertStore>,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, TlsError> {
    let v = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| TlsError(format!("cannot set up certificate verification: {e}")))?;
    Ok(v)
}

fn chain_only(
    roots: Arc<RootCertStore>,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, TlsError> {
    let inner = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| TlsError(format!("cannot set up certificate verification: {e}")))?;
    Ok(Arc::new(ChainOnly(inner)))
}

/// verify-ca: the chain must lead to a trusted root; the host name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// prefer/require without roots: encryption without authentication, as libpq does. The
/// handshake signatures are still checked so the session key belongs to the presented cert.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl NoVerify {
    fn algs(&self) -> &WebPkiSupportedAlgorithms {
        &self.0.signature_verification_algorithms
    }
}

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, self.algs())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, self.algs())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs().supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_map_to_tokio_postgres() {
        use tokio_postgres::config::SslMode as Pg;
        let none = RootCert::Default(None);
        assert_eq!(connector(SslMode::Disable, &none).unwrap().0, Pg::Disable);
        assert_eq!(connector(SslMode::Prefer, &none).unwrap().0, Pg::Prefer);
        assert_eq!(connector(SslMode::Allow, &none).unwrap().0, Pg::Prefer);
        assert_eq!(connector(SslMode::Require, &none).unwrap().0, Pg::Require);
        assert_eq!(
            connector(SslMode::VerifyFull, &RootCert::System).unwrap().0,
            Pg::Require
        );
        let e = connector(SslMode::VerifyFull, &none).err().unwrap();
        assert!(e.0.contains("sslrootcert"), "{e}");
        let e = connector(
            SslMode::VerifyCa,
            &RootCert::File("/nonexistent/ca.pem".into()),
        )
        .err()
        .unwrap();
        assert!(e.0.contains("/nonexistent/ca.pem"), "{e}");
        assert_eq!(SslMode::parse("verify-full"), Some(SslMode::VerifyFull));
        // libpq compares exactly (`strcmp`): psql refuses these, and so does migtop.
        assert_eq!(SslMode::parse("VERIFY-FULL"), None);
        assert_eq!(SslMode::parse(" require"), None);
        assert_eq!(SslMode::parse("sometimes"), None);
    }
}
