//! The one error type of the core: `StreamError`, a stable `code` with the NovusPack error
//! category (`type`) it belongs to, and optional structured context.
//!
//! Every code maps to exactly one category, so a category can never disagree with its code.
//! The wasm boundary converts this type to the JS `StreamError` in one place.

use std::fmt;

/// The NovusPack structured error categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// A bad argument or configuration value.
    Validation,
    /// The source failed to deliver bytes.
    IO,
    /// A key is missing, or data that must be encrypted is not.
    Security,
    /// A format, version or operation this build does not support.
    Unsupported,
    /// Cancelled, timed out or closed.
    Context,
    /// Damaged, truncated or inconsistent data.
    Corruption,
    /// Authentication failed (wrong key or tampered data; deliberately not told apart).
    Encryption,
    /// Invalid compressed data, or output past a limit.
    Compression,
}

impl ErrorType {
    /// The name used across the JS API (`'Validation'`, `'IO'`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Validation => "Validation",
            ErrorType::IO => "IO",
            ErrorType::Security => "Security",
            ErrorType::Unsupported => "Unsupported",
            ErrorType::Context => "Context",
            ErrorType::Corruption => "Corruption",
            ErrorType::Encryption => "Encryption",
            ErrorType::Compression => "Compression",
        }
    }
}

macro_rules! error_codes {
    ($($variant:ident => $name:literal, $ty:ident, $doc:literal;)*) => {
        /// Stable error codes. The string form (`as_str`) is part of the public contract.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $doc] $variant,)*
        }

        impl ErrorCode {
            /// Every code, for documentation and exhaustive tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable string form, e.g. `"INVALID_OFFSET"`.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name,)* }
            }

            /// The category this code belongs to.
            pub fn error_type(self) -> ErrorType {
                match self { $(ErrorCode::$variant => ErrorType::$ty,)* }
            }

            /// One line describing when the code is used.
            pub fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc,)* }
            }
        }
    };
}

error_codes! {
    InvalidArgument => "INVALID_ARGUMENT", Validation, "An argument or configuration value is out of range or of the wrong kind.";
    InvalidOffset => "INVALID_OFFSET", Validation, "An offset or length is negative, not an integer, or past the end.";
    InvalidKey => "INVALID_KEY", Validation, "A key is not of the right kind or length (32 bytes; an ML-KEM key of its parameter set's length).";
    BufferTooLarge => "BUFFER_TOO_LARGE", Validation, "A buffer larger than the pool's maxBufferSize was asked for.";
    MemoryLimit => "MEMORY_LIMIT", Validation, "The operation needs more memory than memoryLimit (or the pool's maxTotalSize) allows.";
    NotFound => "NOT_FOUND", Validation, "No entry of the package has this path.";
    ReadFailed => "READ_FAILED", IO, "The source failed to deliver bytes (the cause is in the message).";
    SizeMismatch => "SIZE_MISMATCH", IO, "The source delivered more or fewer bytes than its declared size.";
    ResourceChanged => "RESOURCE_CHANGED", IO, "A remote file changed while it was read (another ETag, Last-Modified or size): bytes of two versions are never mixed.";
    WorkerFailed => "WORKER_FAILED", IO, "A worker died while running a job (twice: a job is retried once on a new worker).";
    KeyRequired => "KEY_REQUIRED", Security, "The data is encrypted and no key was given.";
    NotEncrypted => "NOT_ENCRYPTED", Security, "A key was given or encryption was expected, but the data is not encrypted.";
    UnsupportedVersion => "UNSUPPORTED_VERSION", Unsupported, "The sealed format version is newer than this reader.";
    UnsupportedAlgorithm => "UNSUPPORTED_ALGORITHM", Unsupported, "An unknown compression or encryption id, or gzip/zlib options this reader does not handle.";
    UnknownFormat => "UNKNOWN_FORMAT", Unsupported, "The data is not in a format this reader knows: not sealed, gzip or zlib (nor raw deflate, nor v1 framing, when those were asked for).";
    UnsupportedRuntime => "UNSUPPORTED_RUNTIME", Unsupported, "This runtime lacks what the call needs: Workers for a worker transport, SharedArrayBuffer (a cross-origin isolated page) for 'shared'.";
    NotSeekable => "NOT_SEEKABLE", Unsupported, "A backward seek or read on a sequential source whose bytes are no longer buffered.";
    RangeNotSupported => "RANGE_NOT_SUPPORTED", Unsupported, "The server answered a Range request with the whole file, and the file is larger than maxRangeSize.";
    Closed => "CLOSED", Context, "The stream, pool or worker pool is closed.";
    Aborted => "ABORTED", Context, "The operation was cancelled through its AbortSignal.";
    Timeout => "TIMEOUT", Context, "The operation took longer than its timeout.";
    QueueFull => "QUEUE_FULL", Context, "The job queue is full and the job could not wait for room.";
    Truncated => "TRUNCATED", Corruption, "The data ends early (no last chunk, short footer, cut gzip member, ...).";
    BadMagic => "BAD_MAGIC", Corruption, "The data does not start (or end) with the expected magic bytes.";
    Corrupted => "CORRUPTED", Corruption, "A structure is inconsistent: bad lengths, offsets outside the data, reordered chunks, trailing bytes.";
    ChecksumMismatch => "CHECKSUM_MISMATCH", Corruption, "A CRC-32 or Adler-32 does not match the data.";
    AuthFailed => "AUTH_FAILED", Encryption, "Authentication failed: wrong key, or the data was modified.";
    InvalidData => "INVALID_DATA", Compression, "The compressed data is not valid deflate.";
    OutputLimit => "OUTPUT_LIMIT", Compression, "Decompression would produce more bytes than allowed (a decompression bomb).";
    NotReady => "NOT_READY", Context, "A synchronous call before `await ready()` in a runtime that cannot load wasm synchronously.";
    ViewDetached => "VIEW_DETACHED", Validation, "Wasm memory grew while a PooledBuffer view was in use (allocate outside withView callbacks).";
    InternalError => "INTERNAL_ERROR", Unsupported, "A bug in novuspack-stream (a trap in the wasm module): please report it; the module must be reloaded.";
}

/// Structured details that say which value was wrong and what was expected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorContext {
    /// The configuration field or argument name.
    pub field: Option<String>,
    /// The offending value, rendered as text.
    pub value: Option<String>,
    /// What would have been accepted.
    pub expected: Option<String>,
    /// A byte offset (stored or logical, as the message says).
    pub offset: Option<u64>,
    /// A chunk number in the sealed format.
    pub chunk: Option<u64>,
}

impl ErrorContext {
    fn is_empty(&self) -> bool {
        *self == ErrorContext::default()
    }
}

/// The error of every fallible operation in the core (one pointer wide, so `Result`s stay
/// small on hot paths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamError(Box<ErrorInner>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct ErrorInner {
    code: ErrorCode,
    message: String,
    context: ErrorContext,
}

/// Result alias used throughout the core.
pub type Result<T, E = StreamError> = std::result::Result<T, E>;

impl StreamError {
    /// A new error with a message and no context.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        StreamError(Box::new(ErrorInner { code, message: message.into(), context: ErrorContext::default() }))
    }

    /// A validation error naming the field, the value and what was expected.
    pub fn invalid(field: &str, value: impl fmt::Display, expected: impl Into<String>) -> Self {
        let expected = expected.into();
        let value = value.to_string();
        StreamError::new(ErrorCode::InvalidArgument, format!("invalid {field}: {value} (expected {expected})"))
            .with_field(field)
            .with_value(value)
            .with_expected(expected)
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// The category.
    pub fn error_type(&self) -> ErrorType {
        self.0.code.error_type()
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The structured context.
    pub fn context(&self) -> &ErrorContext {
        &self.0.context
    }

    /// Replaces the code (e.g. to report a generic failure more precisely).
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.0.code = code;
        self
    }

    /// Sets `context.field`.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.0.context.field = Some(field.into());
        self
    }

    /// Sets `context.value`.
    pub fn with_value(mut self, value: impl fmt::Display) -> Self {
        self.0.context.value = Some(value.to_string());
        self
    }

    /// Sets `context.expected`.
    pub fn with_expected(mut self, expected: impl Into<String>) -> Self {
        self.0.context.expected = Some(expected.into());
        self
    }

    /// Sets `context.offset`.
    pub fn with_offset(mut self, offset: u64) -> Self {
        self.0.context.offset = Some(offset);
        self
    }

    /// Sets `context.chunk`.
    pub fn with_chunk(mut self, chunk: u64) -> Self {
        self.0.context.chunk = Some(chunk);
        self
    }

    /// Sets the chunk only if none is set yet (inner layers know more than outer ones).
    pub fn or_chunk(mut self, chunk: u64) -> Self {
        self.0.context.chunk.get_or_insert(chunk);
        self
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}/{}]", self.0.message, self.error_type().as_str(), self.0.code.as_str())?;
        let context = &self.0.context;
        if !context.is_empty() {
            if let Some(chunk) = context.chunk {
                write!(f, " chunk {chunk}")?;
            }
            if let Some(offset) = context.offset {
                write!(f, " at offset {offset}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for StreamError {}

impl From<StreamError> for std::io::Error {
    fn from(err: StreamError) -> Self {
        let kind = match err.code() {
            ErrorCode::InvalidArgument
            | ErrorCode::InvalidOffset
            | ErrorCode::InvalidKey
            | ErrorCode::BufferTooLarge => std::io::ErrorKind::InvalidInput,
            ErrorCode::Truncated => std::io::ErrorKind::UnexpectedEof,
            ErrorCode::Timeout => std::io::ErrorKind::TimedOut,
            ErrorCode::Aborted => std::io::ErrorKind::Interrupted,
            ErrorCode::NotSeekable | ErrorCode::UnsupportedAlgorithm | ErrorCode::UnsupportedVersion => {
                std::io::ErrorKind::Unsupported
            }
            ErrorCode::MemoryLimit => std::io::ErrorKind::OutOfMemory,
            ErrorCode::ReadFailed => std::io::ErrorKind::Other,
            _ => std::io::ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, err)
    }
}

/// Shorthand constructors used across the core.
pub(crate) fn err(code: ErrorCode, message: impl Into<String>) -> StreamError {
    StreamError::new(code, message)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_unique_upper_snake_name_and_a_description() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "duplicate code {name}");
            assert!(name.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{name}");
            assert!(!code.description().is_empty());
        }
        assert_eq!(ErrorCode::AuthFailed.error_type(), ErrorType::Encryption);
        assert_eq!(ErrorCode::Truncated.error_type(), ErrorType::Corruption);
        assert_eq!(ErrorCode::Aborted.error_type(), ErrorType::Context);
    }

    #[test]
    fn invalid_names_field_value_and_expectation() {
        let e = StreamError::invalid("bufferSize", -1, "a positive integer");
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert_eq!(e.error_type(), ErrorType::Validation);
        assert_eq!(e.context().field.as_deref(), Some("bufferSize"));
        assert_eq!(e.context().value.as_deref(), Some("-1"));
        assert_eq!(e.context().expected.as_deref(), Some("a positive integer"));
        assert!(e.to_string().contains("bufferSize"));
    }
}
