//! Building the HTTP application: bind first (port 0 allowed), then run.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

use crate::config::Settings;
use crate::engine::Engine;
use crate::http::health;

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `settings.server.bind` and prepares the server around an already loaded engine.
    pub fn build(settings: &Settings, engine: Arc<Engine>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(settings.server.bind)?;
        let port = listener.local_addr()?.port();
        let engine = web::Data::new(engine);
        let server = HttpServer::new(move || {
            App::new().app_data(engine.clone()).service(health::healthz).service(health::readyz)
        })
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The port actually bound (the real one when 0 was asked for).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
