//! Connection tracking, so a `drop` fault can close a connection hyper owns.
//!
//! A response can only be refused by closing the connection it would travel on, which hyper
//! owns. So every accepted TCP connection is tracked ([`ConnectionAcceptor`]): the emulator
//! keeps a duplicate of its socket, keyed by the client's address, and a `drop` fault shuts that
//! socket down in both directions. The client sees the connection close with no response (for
//! HTTP/2, every stream on it fails), exactly as when a load balancer resets a connection. The
//! duplicate is released when hyper drops the connection.

use std::collections::HashMap;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Duplicates of the sockets of open connections, by client address, for `drop` faults.
#[derive(Default)]
pub(super) struct Connections {
    sockets: Mutex<HashMap<SocketAddr, std::net::TcpStream>>,
}

impl Connections {
    fn lock(&self) -> MutexGuard<'_, HashMap<SocketAddr, std::net::TcpStream>> {
        self.sockets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Shuts the connection from `peer` down both ways; returns whether it was tracked.
    pub(super) fn shut_down(&self, peer: SocketAddr) -> bool {
        match self.lock().remove(&peer) {
            Some(socket) => {
                if let Err(error) = socket.shutdown(Shutdown::Both) {
                    tracing::debug!(%error, %peer, "the connection to drop was already closed");
                }
                true
            }
            None => false,
        }
    }
}

/// The inner acceptor of the TLS server: tracks each TCP connection (see the module
/// documentation) before the TLS handshake.
#[derive(Clone)]
pub(crate) struct ConnectionAcceptor {
    pub(super) connections: Arc<Connections>,
}

impl<S> axum_server::accept::Accept<tokio::net::TcpStream, S> for ConnectionAcceptor {
    type Stream = TrackedStream;
    type Service = S;
    type Future = std::future::Ready<std::io::Result<(TrackedStream, S)>>;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        std::future::ready(self.track(stream).map(|stream| (stream, service)))
    }
}

impl ConnectionAcceptor {
    fn track(&self, stream: tokio::net::TcpStream) -> std::io::Result<TrackedStream> {
        // Without TCP_NODELAY, Nagle's algorithm holds a response's last small segment until the
        // client's delayed ACK (~40 ms on Linux): measured as 40 ms stalls in `just bench`.
        // Azure's front ends do not stall like that, so neither may the emulator.
        stream.set_nodelay(true)?;
        let peer = stream.peer_addr()?;
        let socket = stream.into_std()?;
        let duplicate = socket.try_clone();
        let stream = tokio::net::TcpStream::from_std(socket)?;
        let registration = match duplicate {
            Ok(duplicate) => {
                self.connections.lock().insert(peer, duplicate);
                Some(Registration { peer, connections: Arc::clone(&self.connections) })
            }
            Err(error) => {
                tracing::warn!(%error, %peer, "could not track a connection; a drop fault cannot close it");
                None
            }
        };
        Ok(TrackedStream { inner: stream, _registration: registration })
    }
}

/// Forgets a connection's duplicate socket when hyper drops the connection, so the socket is
/// really closed (a leftover duplicate would keep it open).
struct Registration {
    peer: SocketAddr,
    connections: Arc<Connections>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.peer);
    }
}

/// A TCP stream whose duplicate is tracked for `drop` faults; reads and writes pass through.
pub(crate) struct TrackedStream {
    inner: tokio::net::TcpStream,
    _registration: Option<Registration>,
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(context, buffer)
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(mut self: Pin<&mut Self>, context: &mut Context<'_>, buffer: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(context, buffer)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(context)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(context, buffers)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
