/**
 * Streaming envelopes as Node.js Transforms. Encrypt holds one frame of plaintext; decrypt holds
 * at most one frame of ciphertext (plus the bounded header), so memory is flat for any size.
 */
import { Transform, type TransformCallback, addAbortSignal } from 'node:stream';
import type { AesGcm } from '../aead/gcm.js';
import type { DataKeyMaterial } from '../cache/encryption-key-cache.js';
import { EnvelopeMalformedError } from '../errors.js';
import { type EncryptionContext, encodeContext, parseContext } from '../format/context.js';
import type { SectionMacs } from '../format/internal/key-schedule.js';
import { ByteQueue } from '../internal/byte-queue.js';
import type { SecretKey } from '../internal/secret.js';
import type { WrappedKey } from '../keys/kek.js';
import { HeaderReader } from './internal/header-reader.js';
import { FrameOpener, FrameSealer, type SealParams, buildHeader, openHeader } from './message.js';

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
export function createEncryptStream(aead: AesGcm, macs: SectionMacs, source: EncryptStreamSource, options: EncryptStreamOptions): Transform {
  let sealer: FrameSealer | undefined;
  let material: DataKeyMaterial | undefined;
  let frame: Uint8Array | undefined;
  let fill = 0;

  const start = async (stream: Transform): Promise<void> => {
    material = await source.material(options.signal);
    const params = source.params(material);
    const { header, contentKey } = buildHeader(aead, macs, params);
    stream.push(header);
    sealer = new FrameSealer(aead, contentKey, params.frameSize);
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
 * has authenticated (v2: when the first frame's tag, which covers the header through the content
 * key, has verified), before the first plaintext byte.
 */
export function createDecryptStream(aead: AesGcm, macs: SectionMacs, resolveDek: ResolveDek, options: DecryptStreamOptions): Transform {
  const requiredContextBytes = encodeContext(options.requiredContext, 'requiredContext');
  const headerReader = new HeaderReader();
  const queue = new ByteQueue();
  let opener: FrameOpener | undefined;
  let context: Record<string, string> | undefined;

  /** Feeds `chunk` to the header reader; once the header is complete, opens it and queues the rest. */
  const readHeader = async (chunk: Uint8Array): Promise<boolean> => {
    const read = headerReader.push(chunk);
    if (read === undefined) return false;
    const { header, headerBytes, rest } = read;
    context = parseContext(header.contextBytes);
    const dek = await resolveDek(header.wrappedKeys, options.signal);
    opener = new FrameOpener(aead, openHeader(aead, macs, header, headerBytes, dek.expose(), requiredContextBytes), header.frameSize);
    queue.push(rest);
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
      const { plaintext } = opener!.open(queue.peek(len));
      if (context !== undefined) {
        stream.emit('context', context);
        context = undefined;
      }
      stream.push(plaintext);
      queue.consume(len);
    }
  };

  const stream = new Transform({
    transform(chunk: Uint8Array, _enc, done: TransformCallback) {
      run(async () => {
        if (opener === undefined) {
          if (!(await readHeader(chunk))) return;
        } else {
          queue.push(chunk);
        }
        drainFrames(this);
      }, done);
    },
    flush(done: TransformCallback) {
      run(async () => {
        if (opener === undefined) throw new EnvelopeMalformedError('envelope is truncated');
        drainFrames(this);
        if (!opener.finished) throw new EnvelopeMalformedError('envelope is truncated');
      }, done);
    },
  });
  return options.signal === undefined ? stream : addAbortSignal(options.signal, stream);
}

function run(work: () => Promise<void>, done: TransformCallback): void {
  work().then(() => done(), (err: unknown) => done(err as Error));
}
