//! What the relay accepts TCP connections with, so that running out of file descriptors
//! and idle or half-sent requests cannot lock clients out.
//!
//! - **Descriptors.** At start the relay raises its soft open-files limit to the hard one
//!   ([`raise_open_files_limit`]) and keeps `max_connections` below what the limit allows.
//!   If descriptors still run out, one kept in reserve is given up to accept the waiting
//!   connection, answer it `503` and close it, instead of leaving it unanswered.
//! - **Slow or idle connections.** A connection must finish its first request within
//!   the header timeout, and one that sends nothing for the idle timeout is closed
//!   ([`Guarded`]). A joined WebSocket is never idle that long: it answers the relay's
//!   pings every few seconds.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tracing::{debug, warn};

/// Descriptors kept free for everything but client connections (the media socket, the
/// stores, Redis, logs, accepts in flight).
pub const RESERVED_FDS: u64 = 48;

/// Raise the soft open-files limit to the hard limit; the soft limit now in force.
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(soft) => Some(soft),
            Err(e) => {
                warn!(error = %e, "cannot raise the open-files limit");
                rlimit::getrlimit(rlimit::Resource::NOFILE)
                    .ok()
                    .map(|(soft, _)| soft)
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The most connections `open_files` descriptors carry, keeping [`RESERVED_FDS`] aside.
pub fn connections_for(open_files: u64) -> usize {
    open_files.saturating_sub(RESERVED_FDS).max(1) as usize
}

/// The answer to a connection accepted when no descriptor is left for serving it.
const AT_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\nRetry-After: 5\r\nConnection: close\r\n\
Content-Length: 47\r\n\r\nthe relay is at capacity; try again in a moment\n";

/// A TCP listener that sets `TCP_NODELAY`, guards each connection with timeouts, and
/// answers `503` when the process is out of descriptors.
pub struct GuardedListener {
    inner: TcpListener,
    /// Held so that it can be given up to answer one connection when descriptors run out.
    spare: Option<std::fs::File>,
    header_timeout: Duration,
    idle_timeout: Duration,
    last_warning: Option<Instant>,
}

impl GuardedListener {
    pub fn new(inner: TcpListener, header_timeout: Duration, idle_timeout: Duration) -> Self {
        GuardedListener {
            inner,
            spare: spare(),
            header_timeout,
            idle_timeout,
            last_warning: None,
        }
    }

    /// Out of descriptors: give up the spare one, accept a waiting connection, tell it
    /// `503` and close it, then take the spare back.
    async fn shed(&mut self) {
        self.spare = None;
        let answered =
            match tokio::time::timeout(Duration::from_millis(50), self.inner.accept()).await {
                Ok(Ok((stream, _))) => {
                    // Without waiting: a client that does not read gets what fits.
                    let _ = stream.try_write(AT_CAPACITY);
                    true
                }
                _ => false,
            };
        self.spare = spare();
        if !answered || self.spare.is_none() {
            // Still no descriptor to spare (another task took it): do not spin on the
            // accept error; connections wait in the backlog meanwhile.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if self
            .last_warning
            .is_none_or(|t| t.elapsed() > Duration::from_secs(10))
        {
            warn!("out of file descriptors: answering new connections 503 (raise the open-files limit or lower max_connections)");
            self.last_warning = Some(Instant::now());
        }
    }
}

fn spare() -> Option<std::fs::File> {
    std::fs::File::open(if cfg!(unix) { "/dev/null" } else { "NUL" }).ok()
}

fn out_of_descriptors(e: &io::Error) -> bool {
    // EMFILE (24): this process; ENFILE (23): the whole system.
    matches!(e.raw_os_error(), Some(23 | 24))
}

impl axum::serve::Listener for GuardedListener {
    type Io = Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        debug!(error = %e, "cannot set TCP_NODELAY");
                    }
                    let io = Guarded::new(stream, self.header_timeout, self.idle_timeout);
                    return (io, addr);
                }
                Err(e) if out_of_descriptors(&e) => self.shed().await,
                Err(e) => {
                    debug!(error = %e, "accept error");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Bytes a client may send before its first answer and still be held to the header
/// timeout: past them it is sending a body (an upload), not dawdling over headers, and
/// the idle timeout applies instead.
const HEADER_PHASE_BYTES: u64 = 64 * 1024;

/// A connection that is closed (reads fail with `TimedOut`) when its first request is
/// not answered within the header timeout (unless it is sending a large body), or when
/// nothing moves either way for the idle timeout: a long upload or download is alive as
/// long as its bytes flow.
pub struct Guarded {
    io: TcpStream,
    deadline: Pin<Box<Sleep>>,
    /// Whether anything was written back yet: until then the header timeout applies.
    answered: bool,
    /// Bytes read before the first answer.
    read_before_answer: u64,
    idle: Duration,
}

impl Guarded {
    fn new(io: TcpStream, header_timeout: Duration, idle: Duration) -> Self {
        Guarded {
            io,
            deadline: Box::pin(tokio::time::sleep(header_timeout)),
            answered: false,
            read_before_answer: 0,
            idle,
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let got = (buf.filled().len() - before) as u64;
                if !self.answered {
                    self.read_before_answer += got;
                }
                if got > 0 && (self.answered || self.read_before_answer > HEADER_PHASE_BYTES) {
                    let next = Instant::now() + self.idle;
                    self.deadline.as_mut().reset(next);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    if self.answered {
                        "idle connection closed"
                    } else {
                        "request not completed within the header timeout"
                    },
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl Guarded {
    /// Bytes went out: the connection is answered, and alive for another idle timeout.
    fn wrote(&mut self) {
        self.answered = true;
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.wrote();
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.wrote();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn pair(header: Duration, idle: Duration) -> (Guarded, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (Guarded::new(server, header, idle), client)
    }

    #[tokio::test]
    async fn a_request_never_finished_times_out() {
        let (mut server, mut client) =
            pair(Duration::from_millis(200), Duration::from_secs(60)).await;
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        let n = server.read(&mut buf).await.unwrap();
        assert!(n > 0);
        // Dripping more bytes does not buy time before the first answer.
        let drip = tokio::spawn(async move {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if client.write_all(b"X").await.is_err() {
                    break;
                }
            }
            client
        });
        let err = loop {
            match server.read(&mut buf).await {
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(drip);
    }

    #[tokio::test]
    async fn after_an_answer_only_silence_times_out() {
        let (mut server, mut client) =
            pair(Duration::from_millis(100), Duration::from_millis(300)).await;
        server.write_all(b"HTTP/1.1 101\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        // Traffic every 100 ms keeps it open well past the header timeout.
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            client.write_all(b"ping").await.unwrap();
            assert!(server.read(&mut buf).await.unwrap() > 0);
        }
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test]
    async fn a_large_body_or_a_long_answer_keeps_the_connection_while_bytes_flow() {
        let (mut server, mut client) =
            pair(Duration::from_millis(200), Duration::from_millis(300)).await;
        // An upload: past the header phase, a body arriving steadily outlives the header
        // timeout.
        let body = vec![b'x'; 16 * 1024];
        let mut buf = vec![0u8; 64 * 1024];
        let mut read = 0;
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(700) {
            client.write_all(&body).await.unwrap();
            read += server.read(&mut buf).await.unwrap();
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        assert!(read as u64 > HEADER_PHASE_BYTES);
        // A download: the relay writing while the client only reads stays open past the
        // idle timeout.
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(700) {
            server.write_all(b"chunk").await.unwrap();
            let mut got = [0u8; 16];
            client.read_exact(&mut got[..5]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Then silence both ways closes it.
        let err = loop {
            match server.read(&mut buf).await {
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn connections_leave_descriptors_aside() {
        assert_eq!(connections_for(1024), 1024 - RESERVED_FDS as usize);
        assert_eq!(connections_for(10), 1);
    }
}
