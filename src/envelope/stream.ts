/**
 * Streaming envelopes as Node.js Transforms. Encrypt holds one frame of plaintext; decrypt holds
 * at most one frame of ciphertext (plus the bounded header), so memory is flat for any size.
 */
import { Transform, type TransformCallback, addAbortSignal } from 'node:stream';
import type { AesGcm } from '../aead/gcm.js';
import type { DataKeyMaterial } from '../cache/encryption-key-cache.js';
import { EnvelopeMalformedError } from '../errors.js';
import { type EncryptionContext, encodeContext, parseContext } from '../format/context.js';
import { parseHeader } from '../format/envelope.js';
import { NeedMoreBytes } from '../format/internal/reader.js';
import { ByteQueue } from '../internal/byte-queue.js';
import type { SecretKey } from '../internal/secret.js';
import type { WrappedKey } from '../keys/kek.js';
import { FrameOpener, FrameSealer, buildHeader, verifyHeader } from './message.js';
import type { SealParams } from './one-shot.js';

/** Options of `EnvelopeClient.encryptStream`. */
export interface EncryptStreamOptions {
  context?: EncryptionContext;
  requiredContext?: EncryptionContext;
  /** Destroys the stream with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of `EnvelopeClient.decryptStream`. */
export interface DecryptStreamOptions {
  requiredContext?: EncryptionContext;
  signal?: AbortSignal;
}

/** What the encrypt stream needs from its client. */
export interface EncryptStreamSource {
  material(signal?: AbortSignal): Promise<DataKeyMaterial>;
  params(material: DataKeyMaterial): SealParams;
  onBytes(material: DataKeyMaterial, byteCount: number): void;
}

/** Creates the encrypting Transform. The header is emitted when the first byte (or the end) arrives. */
export function createEncryptStream(aead: AesGcm, source: EncryptStreamSource, options: EncryptStreamOptions): Transform {
  let sealer: FrameSealer | undefined;
  let material: DataKeyMaterial | undefined;
  let frame: Uint8Array | undefined;
  let fill = 0;

  const start = async (stream: Transform): Promise<void> => {
    material = await source.material(options.signal);
    const params = source.params(material);
    stream.push(buildHeader(aead, params));
    sealer = new FrameSealer(aead, params.keys.contentKey, params.frameSize);
    frame = new Uint8Array(params.frameSize);
  };

  const stream = new Transform({
    transform(chunk: Uint8Array, _enc, done: TransformCallback) {
      run(async () => {
        if (sealer === undefined) await start(this);
        source.onBytes(material!, chunk.length);
        for (let off = 0; off < chunk.length; ) {
          // A full frame is sealed as non-final only once a further byte proves more is coming.
          if (fill === frame!.length) {
            this.push(sealer!.seal(frame!, false));
            fill = 0;
          }
          const take = Math.min(frame!.length - fill, chunk.length - off);
          frame!.set(chunk.subarray(off, off + take), fill);
          fill += take;
          off += take;
        }
      }, done);
    },
    flush(done: TransformCallback) {
      run(async () => {
        if (sealer === undefined) await start(this);
        this.push(sealer!.seal(frame!.subarray(0, fill), true));
        frame!.fill(0);
      }, done);
    },
  });
  return options.signal === undefined ? stream : addAbortSignal(options.signal, stream);
}

/** Resolves the DEK of a header's wrapped keys (through the client's cache and KEKs). */
export type ResolveDek = (wrappedKeys: readonly WrappedKey[], signal?: AbortSignal) => Promise<SecretKey>;

/**
 * Creates the decrypting Transform. Emits `'context'` with the stored context once the header
 * has authenticated, before the first plaintext byte.
 */
export function createDecryptStream(aead: AesGcm, resolveDek: ResolveDek, options: DecryptStreamOptions): Transform {
  const requiredContextBytes = encodeContext(options.requiredContext, 'requiredContext');
  const queue = new ByteQueue();
  let opener: FrameOpener | undefined;

  const readHeader = async (stream: Transform): Promise<boolean> => {
    let header;
    try {
      header = parseHeader(queue.peek());
    } catch (err) {
      if (err instanceof NeedMoreBytes) return false;
      throw err;
    }
    const headerBytes = queue.peek(header.headerLength).slice();
    const context = parseContext(header.contextBytes);
    const dek = await resolveDek(header.wrappedKeys, options.signal);
    const contentKey = verifyHeader(aead, header, headerBytes, dek.expose(), requiredContextBytes);
    queue.consume(header.headerLength);
    opener = new FrameOpener(aead, contentKey, header.frameSize);
    stream.emit('context', context);
    return true;
  };

  const drainFrames = (stream: Transform): void => {
    for (;;) {
      if (opener!.finished) {
        if (queue.length > 0) throw new EnvelopeMalformedError('envelope has bytes after the final frame');
        return;
      }
      const len = opener!.frameLength(queue.peek(Math.min(queue.length, 4)), 0);
      if (len === undefined || queue.length < len) return;
      stream.push(opener!.open(queue.peek(len)).plaintext);
      queue.consume(len);
    }
  };

  const stream = new Transform({
    transform(chunk: Uint8Array, _enc, done: TransformCallback) {
      queue.push(chunk);
      run(async () => {
        if (opener === undefined && !(await readHeader(this))) return;
        drainFrames(this);
      }, done);
    },
    flush(done: TransformCallback) {
      run(async () => {
        if (opener === undefined && !(await readHeader(this))) throw new EnvelopeMalformedError('envelope is truncated');
        drainFrames(this);
        if (!opener!.finished) throw new EnvelopeMalformedError('envelope is truncated');
      }, done);
    },
  });
  return options.signal === undefined ? stream : addAbortSignal(options.signal, stream);
}

function run(work: () => Promise<void>, done: TransformCallback): void {
  work().then(() => done(), (err: unknown) => done(err as Error));
}
