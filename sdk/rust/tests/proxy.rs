//! A one-request-per-connection HTTP proxy in front of the stack that, for the first `n`
//! requests starting with `request_line`, lets the stack answer and then closes the client's
//! connection without a byte: the request happened, the answer was lost.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

pub struct Proxy {
    pub url: String,
    /// Requests that matched `request_line` (the first `n` of them went unanswered).
    matched: Arc<AtomicUsize>,
    n: usize,
}

impl Proxy {
    pub fn dropped(&self) -> usize {
        self.matched.load(Ordering::SeqCst).min(self.n)
    }
}

pub async fn start(upstream: &str, request_line: &'static str, n: usize) -> Proxy {
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let matched = Arc::new(AtomicUsize::new(0));
    let counter = matched.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (upstream, counter) = (upstream.clone(), counter.clone());
            tokio::spawn(async move {
                let _ = relay(client, &upstream, request_line, n, &counter).await;
            });
        }
    });
    Proxy { url, matched, n }
}

async fn relay(
    mut client: TcpStream,
    upstream: &str,
    request_line: &str,
    n: usize,
    matched: &AtomicUsize,
) -> std::io::Result<()> {
    let request = read_request(&mut client).await?;
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&request).await?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).await?;
    let matches = request.starts_with(request_line.as_bytes());
    if matches && matched.fetch_add(1, Ordering::SeqCst) < n {
        return Ok(()); // `client` is dropped unanswered
    }
    client.write_all(&answer).await?;
    client.shutdown().await
}

/// One whole request (head and `Content-Length` body), with `Connection: close` so the server
/// ends its answer by closing.
async fn read_request(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..read]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..read]);
    }
    let kept: Vec<&str> = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let mut request = format!("{}\r\nconnection: close\r\n\r\n", kept.join("\r\n")).into_bytes();
    request.extend_from_slice(&buf[head_end..]);
    Ok(request)
}
