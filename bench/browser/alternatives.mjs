// The alternatives, bundled by bench/browser.mjs with esbuild for the benchmark page (their
// packages are CommonJS or have bare imports that a page cannot resolve on its own).
export * as fflate from 'fflate';
export * as pako from 'pako';
export * as noble from '@noble/ciphers/chacha.js';
export { default as sodium } from 'libsodium-wrappers';
export * as zip from '@zip.js/zip.js';
export {
  DecompressionStreamZlib,
  setWasmExports,
} from '../../node_modules/@zip.js/zip.js/lib/core/streams/zlib-wasm/zlib-streams.js';
export * as fzstd from 'fzstd';
export { ZSTDDecoder } from 'zstddec';
export { default as lz4js } from 'lz4js';
export { default as xzDecompress } from 'xz-decompress';
export { gcm } from '@noble/ciphers/aes.js';
export { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
