use super::fields::js_number;
use super::*;
use crate::core::error::ErrorType;

#[test]
fn default_buffer_config_matches_the_spec() {
    let c = BufferConfig::default();
    assert_eq!(c.max_total_size, 1024 * 1024 * 1024);
    assert_eq!(c.max_buffer_size, 1024 * 1024);
    assert_eq!(c.eviction_policy, EvictionPolicy::Lru);
    assert_eq!(c.eviction_timeout, Duration::from_millis(300_000));
    c.validate().unwrap();
}

#[test]
fn buffer_config_rejects_each_bad_field_by_name() {
    let bad = [
        (BufferConfig { max_total_size: 0, ..Default::default() }, "maxTotalSize"),
        (BufferConfig { max_buffer_size: 0, ..Default::default() }, "maxBufferSize"),
        (BufferConfig { max_total_size: 10, max_buffer_size: 11, ..Default::default() }, "maxBufferSize"),
        (BufferConfig { eviction_timeout: Duration::ZERO, ..Default::default() }, "evictionTimeout"),
    ];
    for (config, field) in bad {
        let e = config.validate().unwrap_err();
        assert_eq!(e.error_type(), ErrorType::Validation);
        assert_eq!(e.context().field.as_deref(), Some(field));
        assert!(e.context().expected.is_some());
    }
    assert_eq!(EvictionPolicy::parse("time").unwrap(), EvictionPolicy::Time);
    let e = EvictionPolicy::parse("fifo").unwrap_err();
    assert_eq!(e.context().field.as_deref(), Some("evictionPolicy"));
    assert_eq!(e.context().value.as_deref(), Some("\"fifo\""));
}

#[test]
fn integer_field_rejects_negative_fractional_nan_and_too_large() {
    assert_eq!(integer_field("bufferSize", 4096.0, 0, 1 << 20).unwrap(), 4096);
    for (value, shown) in [
        (1.5, "1.5"),
        (-2.0, "-2"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-Infinity"),
        (0.125, "0.125"),
        (3e20, "about 1e20"),
    ] {
        assert_eq!(js_number(value), shown);
    }
    for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 2e6] {
        let e = integer_field("bufferSize", bad, 0, 1 << 20).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert_eq!(e.context().field.as_deref(), Some("bufferSize"));
    }
}

#[test]
fn stream_config_rejects_oversized_buffers_and_tiny_limits() {
    StreamConfig::new().validate().unwrap();
    let e = StreamConfig { buffer_size: MAX_BUFFER_SIZE + 1, ..StreamConfig::new() }.validate().unwrap_err();
    assert_eq!(e.context().field.as_deref(), Some("bufferSize"));
    let e = StreamConfig { chunk_size: MAX_BUFFER_SIZE + 1, ..StreamConfig::new() }.validate().unwrap_err();
    assert_eq!(e.context().field.as_deref(), Some("chunkSize"));
    let e = StreamConfig { memory_limit: 10, ..StreamConfig::new() }.validate().unwrap_err();
    assert_eq!(e.context().field.as_deref(), Some("memoryLimit"));
    let e = StreamConfig { timeout: Some(Duration::ZERO), ..StreamConfig::new() }.validate().unwrap_err();
    assert_eq!(e.context().field.as_deref(), Some("timeout"));
}

#[test]
fn builder_keeps_unset_options_unset_and_validates_set_ones() {
    let c = StreamingConfigBuilder::new().with_stream_buffer_size(4096).build().unwrap();
    assert_eq!(c.stream_buffer_size, Some(4096));
    assert_eq!(c.chunk_processing_mode, None);
    assert_eq!(c.max_streams_per_worker, None);
    assert_eq!(c.resolve().chunk_processing_mode, ChunkMode::Adaptive);

    let c = StreamingConfigBuilder::new()
        .with_chunk_processing_mode(ChunkMode::Parallel)
        .with_max_streams_per_worker(3)
        .with_stream_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    assert_eq!(c.chunk_processing_mode, Some(ChunkMode::Parallel));
    assert_eq!(c.max_streams_per_worker, Some(3));
    assert_eq!(c.stream_timeout, Some(Duration::from_secs(1)));

    for (builder, field) in [
        (StreamingConfigBuilder::new().with_stream_buffer_size(0), "streamBufferSize"),
        (StreamingConfigBuilder::new().with_stream_buffer_size(MAX_BUFFER_SIZE + 1), "streamBufferSize"),
        (StreamingConfigBuilder::new().with_stream_timeout(Duration::ZERO), "streamTimeout"),
        (StreamingConfigBuilder::new().with_max_workers(MAX_WORKERS + 1), "maxWorkers"),
    ] {
        let e = builder.build().unwrap_err();
        assert_eq!(e.error_type(), ErrorType::Validation);
        assert_eq!(e.context().field.as_deref(), Some(field));
    }
    assert_eq!(ChunkMode::from_number(1).unwrap(), ChunkMode::Parallel);
    assert_eq!(ChunkMode::from_number(3).unwrap_err().context().field.as_deref(), Some("chunkProcessingMode"));
}

#[test]
fn created_and_default_configs_are_fully_set_and_valid() {
    for c in [create_streaming_config(), create_streaming_config_for(8), streaming_config_defaults()] {
        validate_streaming_config(&c).unwrap();
        assert!(c.max_workers.is_some() && c.stream_buffer_size.is_some() && c.stream_timeout.is_some());
    }
    assert_eq!(create_streaming_config_for(1).chunk_processing_mode, Some(ChunkMode::Sequential));
    assert_eq!(create_streaming_config_for(1000).max_workers, Some(MAX_WORKERS));
    assert_eq!(streaming_config_defaults().max_workers, Some(0));
}

#[test]
fn raw_contradicts_every_decoding_flag() {
    let mut c = StreamConfig { raw: true, ..StreamConfig::new() };
    c.validate().unwrap();
    c.is_compressed = true;
    assert_eq!(c.validate().unwrap_err().context().field.as_deref(), Some("raw"));
}
