// The Jupyter wire protocol: one message is the frames
//   [routing ids..., '<IDS|MSG>', signature, header, parent_header, metadata, content, buffers...]
// where the signature is an HMAC over the four JSON frames.
// Spec: https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
import { createHmac, getHashes, randomUUID, timingSafeEqual } from 'node:crypto';

export const PROTOCOL_VERSION = '5.3';
const DELIMITER = Buffer.from('<IDS|MSG>');

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export type Content = Record<string, unknown>;

export interface Message {
  /** Router sockets: the peer's routing ids. IOPub: the topic. */
  identities: Buffer[];
  header: Header;
  /** The request's header in replies and outputs; `{}` when there is none. */
  parent_header: Header | Record<string, never>;
  metadata: Content;
  content: Content;
  buffers: Buffer[];
}

export class Signer {
  private readonly digest: string;

  constructor(scheme: string, private readonly key: string) {
    const digest = /^hmac-(.+)$/.exec(scheme)?.[1];
    if (!digest || !getHashes().includes(digest)) {
      throw new Error(`unsupported signature_scheme '${scheme}': expected hmac-<digest> with a digest Node knows, e.g. hmac-sha256`);
    }
    this.digest = digest;
  }

  /** Hex HMAC of the frames; '' when the key is empty (signing disabled). */
  sign(frames: (string | Buffer)[]): string {
    if (this.key === '') return '';
    const hmac = createHmac(this.digest, this.key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest('hex');
  }

  verify(signature: string, frames: Buffer[]): boolean {
    if (this.key === '') return true;
    const expected = Buffer.from(this.sign(frames));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

/** Parse and authenticate a multipart message; throws with the reason if it is malformed or forged. */
export function decode(frames: Buffer[], signer: Signer): Message {
  const split = frames.findIndex((f) => f.equals(DELIMITER));
  if (split < 0) throw new Error('message without the <IDS|MSG> delimiter');
  if (frames.length < split + 6) throw new Error(`message with ${frames.length - split - 1} frames after the delimiter, expected at least 5`);
  const signed = frames.slice(split + 2, split + 6);
  if (!signer.verify(frames[split + 1].toString(), signed)) throw new Error('message with an invalid signature (is the key in the connection file the one the client uses?)');
  const [header, parent_header, metadata, content] = signed.map((f) => JSON.parse(f.toString('utf8')));
  return { identities: frames.slice(0, split), header, parent_header, metadata, content, buffers: frames.slice(split + 6) };
}

export function encode(message: Message, signer: Signer): (string | Buffer)[] {
  const json = [message.header, message.parent_header, message.metadata, message.content].map((part) => JSON.stringify(part));
  return [...message.identities, DELIMITER, signer.sign(json), ...json, ...message.buffers];
}

export function newHeader(msgType: string, session: string): Header {
  return { msg_id: randomUUID(), session, username: 'llamascope', date: new Date().toISOString(), msg_type: msgType, version: PROTOCOL_VERSION };
}

/** An output on IOPub; its topic (the routing frame of a publisher) names kernel and type, as ipykernel's do. */
export function iopubMessage(session: string, parent: Header, msgType: string, content: Content): Message {
  return { identities: [Buffer.from(`kernel.${session}.${msgType}`)], header: newHeader(msgType, session), parent_header: parent, metadata: {}, content, buffers: [] };
}
