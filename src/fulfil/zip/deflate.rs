//! Deflate for one ZIP entry on worker threads: the entry is cut into chunks, each
//! deflated on its own by a reset compressor and ended with a sync flush (an empty stored
//! block that leaves the stream byte-aligned), and the chunks are written in order. Joined,
//! they are one ordinary deflate stream, as pigz writes: no reader needs to know.
//!
//! A chunk loses the 32 KiB of history before it, a few bytes per MiB on our data; what it
//! buys is that rendering, hashing and sealing go on while other cores compress. Memory is
//! bounded: at most [`IN_FLIGHT_PER_WORKER`] chunks per worker are out at any time, and
//! their buffers are reused rather than freed (a fresh 1 MiB buffer is a fresh mapping under
//! the server's malloc settings).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use flate2::{Compress, Compression, FlushCompress, Status};

/// Plaintext per chunk: large enough that the lost history and the flush marker cost
/// nothing measurable, small enough that a few in flight stay a few MiB.
pub(super) const CHUNK: usize = 1024 * 1024;
const IN_FLIGHT_PER_WORKER: usize = 2;
/// Every buffer, plaintext or deflated, has this capacity, so they are interchangeable and a
/// chunk deflated even to stored blocks (5 bytes per 64 KiB) never makes a worker grow one:
/// buffers are made on the writer's thread only, and no worker's malloc arena keeps any.
const BUFFER: usize = CHUNK + CHUNK / 256 + 1024;

struct Job {
    seq: u64,
    input: Vec<u8>,
    output: Vec<u8>,
    last: bool,
}

struct Done {
    seq: u64,
    input: Vec<u8>,
    output: io::Result<Vec<u8>>,
}

pub(super) struct ParallelDeflate<W: Write> {
    out: W,
    chunk: Vec<u8>,
    sent: u64,
    written: u64,
    ready: BTreeMap<u64, Vec<u8>>,
    spare: Vec<Vec<u8>>,
    workers: Workers,
    done: Receiver<Done>,
    max_in_flight: usize,
}

/// The job queue and the threads behind it; dropping it closes the queue and waits for
/// them, so no thread outlives its writer, even one dropped after an error.
struct Workers {
    jobs: Option<SyncSender<Job>>,
    handles: Vec<JoinHandle<()>>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.jobs = None;
        for handle in self.handles.drain(..) {
            // A worker that panicked already showed as a closed channel.
            let _ = handle.join();
        }
    }
}

impl<W: Write> ParallelDeflate<W> {
    pub(super) fn new(out: W, level: Compression, workers: usize) -> io::Result<Self> {
        let workers = workers.max(1);
        let max_in_flight = workers * IN_FLIGHT_PER_WORKER;
        let (jobs, queue) = sync_channel::<Job>(max_in_flight);
        let (done_tx, done) = std::sync::mpsc::channel::<Done>();
        let queue = Arc::new(Mutex::new(queue));
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            let queue = Arc::clone(&queue);
            let done_tx = done_tx.clone();
            let handle = std::thread::Builder::new()
                .name("zip-deflate".into())
                .spawn(move || work(&queue, &done_tx, level))?;
            handles.push(handle);
        }
        Ok(Self {
            out,
            chunk: Vec::with_capacity(BUFFER),
            sent: 0,
            written: 0,
            ready: BTreeMap::new(),
            spare: Vec::new(),
            workers: Workers {
                jobs: Some(jobs),
                handles,
            },
            done,
            max_in_flight,
        })
    }

    /// Sends the chunk being filled (the final one if `last`), waiting for room first.
    fn send(&mut self, last: bool) -> io::Result<()> {
        while self.sent - self.written >= self.max_in_flight as u64 {
            self.wait_one()?;
        }
        let fresh = self.buffer();
        let input = std::mem::replace(&mut self.chunk, fresh);
        let output = self.buffer();
        let job = Job {
            seq: self.sent,
            input,
            output,
            last,
        };
        self.workers
            .jobs
            .as_ref()
            .ok_or_else(workers_gone)?
            .send(job)
            .map_err(|_| workers_gone())?;
        self.sent += 1;
        Ok(())
    }

    fn buffer(&mut self) -> Vec<u8> {
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(BUFFER))
    }

    /// Takes one finished chunk and writes out whatever is next in order.
    fn wait_one(&mut self) -> io::Result<()> {
        let done = self.done.recv().map_err(|_| workers_gone())?;
        let mut input = done.input;
        input.clear();
        self.spare.push(input);
        self.ready.insert(done.seq, done.output?);
        while let Some(output) = self.ready.remove(&self.written) {
            self.out.write_all(&output)?;
            self.written += 1;
            let mut output = output;
            output.clear();
            self.spare.push(output);
        }
        Ok(())
    }

    fn drain(&mut self) -> io::Result<()> {
        while self.written < self.sent {
            self.wait_one()?;
        }
        Ok(())
    }

    /// Ends the stream with a final block and hands back the writer.
    pub(super) fn finish(mut self) -> io::Result<W> {
        self.send(true)?;
        self.drain()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelDeflate<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.chunk.len());
        self.chunk.extend_from_slice(&data[..n]);
        if self.chunk.len() == CHUNK {
            self.send(false)?;
        }
        Ok(n)
    }

    /// Everything written so far reaches the writer, as a sync-flushed chunk.
    fn flush(&mut self) -> io::Result<()> {
        if !self.chunk.is_empty() {
            self.send(false)?;
        }
        self.drain()?;
        self.out.flush()
    }
}

fn workers_gone() -> io::Error {
    io::Error::other("a deflate worker stopped")
}

fn work(queue: &Mutex<Receiver<Job>>, done: &Sender<Done>, level: Compression) {
    let mut compress = Compress::new(level, false);
    loop {
        // The lock is held only while waiting for a job, never while compressing.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(mut job) = job else { return };
        compress.reset();
        let output = deflate_chunk(&mut compress, &job.input, job.output, job.last);
        job.output = Vec::new();
        let sent = done.send(Done {
            seq: job.seq,
            input: job.input,
            output,
        });
        if sent.is_err() {
            return;
        }
    }
}

/// One chunk as a self-contained piece of deflate stream: sync-flushed, or final if `last`.
fn deflate_chunk(
    compress: &mut Compress,
    input: &[u8],
    mut output: Vec<u8>,
    last: bool,
) -> io::Result<Vec<u8>> {
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let start = compress.total_in();
    loop {
        let consumed = (compress.total_in() - start) as usize;
        let status = compress
            .compress_vec(&input[consumed..], &mut output, flush)
            .map_err(io::Error::other)?;
        let consumed = (compress.total_in() - start) as usize;
        let room = output.capacity() - output.len();
        match status {
            Status::StreamEnd => break,
            // Done when all input is in and the flush left spare room (so it is complete).
            Status::Ok | Status::BufError if consumed == input.len() && room > 0 && !last => {
                break;
            }
            _ => output.reserve(64 * 1024),
        }
    }
    Ok(output)
}
