//! A loopback SMTP server for tests: speaks just enough SMTP for lettre (greeting, EHLO,
//! MAIL, RCPT, DATA, QUIT) and keeps every message it is given.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct SmtpSink {
    messages: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    /// While set, a connection gets no greeting: the sender waits, as on a server that hangs.
    holding: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A port nothing listens on (bound, noted, released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

impl SmtpSink {
    pub fn start(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the sink's port");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let holding = Arc::new(AtomicBool::new(false));
        let thread = {
            let messages = Arc::clone(&messages);
            let stop = Arc::clone(&stop);
            let holding = Arc::clone(&holding);
            std::thread::spawn(move || {
                let mut held = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    if !holding.load(Ordering::SeqCst) {
                        held.clear();
                    }
                    match listener.accept() {
                        Ok((stream, _)) if holding.load(Ordering::SeqCst) => held.push(stream),
                        Ok((stream, _)) => {
                            if let Err(e) = converse(stream, &messages) {
                                eprintln!("smtp sink: {e}");
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        Err(e) => panic!("smtp sink accept: {e}"),
                    }
                }
            })
        };
        SmtpSink {
            messages,
            stop,
            holding,
            thread: Some(thread),
        }
    }

    /// Holds every new connection without a word (`true`), or speaks again (`false`; the
    /// connections held are closed).
    pub fn hold(&self, on: bool) {
        self.holding.store(on, Ordering::SeqCst);
    }

    /// Every message received so far, as sent after DATA (dot-unstuffed).
    pub fn messages(&self) -> Vec<String> {
        self.messages.lock().expect("sink lock").clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn converse(stream: TcpStream, messages: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 sink.test ESMTP test sink\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => out.write_all(b"250 sink.test\r\n")?,
            "MAIL" | "RCPT" | "RSET" | "NOOP" => out.write_all(b"250 OK\r\n")?,
            "DATA" => {
                out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let mut message = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    // RFC 5321 4.5.2: a leading dot was doubled by the sender.
                    message.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                messages.lock().expect("sink lock").push(message);
                out.write_all(b"250 OK queued\r\n")?;
            }
            "QUIT" => {
                out.write_all(b"221 Bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"502 Command not implemented\r\n")?,
        }
    }
}
