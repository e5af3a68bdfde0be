import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

export interface TestCertificates {
  /** PEM file of the test certificate authority (what a client's `ca` option points at). */
  caFile: string;
  ca: string;
  /** The server's key and certificate (PEM), signed by the CA. */
  key: string;
  cert: string;
}

/**
 * A throw-away certificate authority and a server certificate it signed, made with the `openssl`
 * command in `dir`. `altNames` are the certificate's subject alternative names
 * (`DNS:localhost`, `IP:127.0.0.1`).
 */
export function testCertificates(dir: string, altNames: readonly string[] = ['DNS:localhost']): TestCertificates {
  const file = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Dativo Test CA', '-keyout', file('ca.key'), '-out', file('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=dativo-test-server', '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(file('server.ext'), `subjectAltName = ${altNames.join(', ')}\n`);
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem'));
  return { caFile: file('ca.pem'), ca: readFileSync(file('ca.pem'), 'utf8'), key: readFileSync(file('server.key'), 'utf8'), cert: readFileSync(file('server.pem'), 'utf8') };
}

export interface TlsProxy {
  port: number;
  /** Connections that completed a TLS handshake. */
  readonly tlsConnections: number;
  close(): Promise<void>;
}

/** Listens on a free local port; `handle` serves each client, `track` registers sockets to close. */
async function listenProxy(handle: (client: net.Socket, track: (socket: net.Socket) => void, secured: () => void) => void): Promise<TlsProxy> {
  let tlsConnections = 0;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    track(client);
    client.on('error', () => undefined);
    handle(client, track, () => tlsConnections++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get tlsConnections() {
      return tlsConnections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const SSL_REQUEST = 80_877_103;

/**
 * A PostgreSQL front door that only accepts TLS: it answers the client's SSLRequest with `S`,
 * terminates TLS with the given certificate and relays the decrypted protocol to a plain
 * PostgreSQL server (`upstream`). A client that starts without TLS is refused with the error a
 * server with `hostssl`-only rules sends. Lets tests exercise real TLS against
 * a local server that has none configured.
 */
export function startPostgresTlsProxy(upstream: { host: string; port: number }, certificates: Pick<TestCertificates, 'key' | 'cert'>): Promise<TlsProxy> {
  return listenProxy((client, track, secured) => {
    client.once('data', (first: Buffer) => {
      if (first.length < 8 || first.readInt32BE(0) !== 8 || first.readInt32BE(4) !== SSL_REQUEST) {
        // What PostgreSQL says when only `hostssl` rules match.
        const text = Buffer.from(`SFATAL\0C28000\0Mno pg_hba.conf entry for host "${client.remoteAddress ?? ''}", user "?", database "?", no encryption\0\0`);
        const message = Buffer.alloc(5 + text.length);
        message.write('E', 0);
        message.writeInt32BE(4 + text.length, 1);
        text.copy(message, 5);
        client.end(message);
        return;
      }
      client.write('S');
      const secure = new tls.TLSSocket(client, { isServer: true, key: certificates.key, cert: certificates.cert });
      secure.on('error', () => client.destroy());
      secure.once('secure', () => {
        secured();
        const backend = net.connect(upstream.port, upstream.host);
        track(backend);
        backend.on('close', () => secure.destroy());
        backend.on('error', () => secure.destroy());
        secure.on('close', () => backend.destroy());
        secure.pipe(backend);
        backend.pipe(secure);
      });
    });
  });
}

const CLIENT_SSL = 0x0800;

/** Splits a byte stream into MySQL packets (3-byte length, 1-byte sequence, payload). */
class PacketReader {
  private buffer: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const packets: Buffer[] = [];
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUIntLE(0, 3);
      if (this.buffer.length < 4 + length) break;
      packets.push(Buffer.from(this.buffer.subarray(0, 4 + length)));
      this.buffer = this.buffer.subarray(4 + length);
    }
    return packets;
  }
  /** Bytes read past the last whole packet. */
  rest(): Buffer {
    return this.buffer;
  }
}

/** Offset of the lower capability flags in a server greeting (protocol 10). */
function greetingCapabilityOffset(payload: Buffer): number {
  const versionEnd = payload.indexOf(0, 1);
  return versionEnd + 1 + 4 + 8 + 1;
}

/**
 * A MySQL / MariaDB front door that only accepts TLS: it advertises TLS in the server greeting,
 * takes the client's SSL request, terminates TLS with the given certificate and relays the
 * decrypted protocol to a plain server (`upstream`), renumbering the handshake packets the plain
 * server did not see. A client that answers the greeting without TLS is refused with MySQL's
 * error 3159 (`--require_secure_transport`).
 */
export function startMysqlTlsProxy(upstream: { host: string; port: number }, certificates: Pick<TestCertificates, 'key' | 'cert'>): Promise<TlsProxy> {
  return listenProxy((client, track, secured) => {
    const backend = net.connect(upstream.port, upstream.host);
    track(backend);
    backend.on('error', () => client.destroy());
    const closeBoth = (): void => {
      client.destroy();
      backend.destroy();
    };
    client.on('close', closeBoth);
    backend.on('close', closeBoth);

    // 1. The server's greeting, with TLS advertised.
    const fromServer = new PacketReader();
    const onGreeting = (chunk: Buffer): void => {
      const [greeting] = fromServer.push(chunk);
      if (!greeting) return;
      backend.removeListener('data', onGreeting);
      backend.pause();
      const offset = 4 + greetingCapabilityOffset(greeting.subarray(4));
      greeting.writeUInt16LE(greeting.readUInt16LE(offset) | CLIENT_SSL, offset);
      client.write(greeting);
      client.on('data', onSslRequest);
    };
    backend.on('data', onGreeting);

    // 2. The client's SSL request (a handshake response cut short), then TLS. The client may send
    //    its TLS hello in the same segment, so TLS runs over a stream fed with what follows.
    const firstFromClient = new PacketReader();
    const onSslRequest = (chunk: Buffer): void => {
      const [request] = firstFromClient.push(chunk);
      if (!request) return;
      client.removeListener('data', onSslRequest);
      const flags = request.length >= 8 ? request.readUInt32LE(4) : 0;
      if (!(flags & CLIENT_SSL)) {
        const text = Buffer.from('Connections using insecure transport are prohibited while --require_secure_transport=ON.');
        const payload = Buffer.concat([Buffer.from([0xff, 0x6f, 0x0c]), Buffer.from('#HY000'), text]);
        const header = Buffer.alloc(4);
        header.writeUIntLE(payload.length, 0, 3);
        header[3] = 2;
        client.end(Buffer.concat([header, payload]));
        return;
      }
      const wire = new Duplex({
        read() {},
        write(data: Buffer, _encoding, callback) {
          client.write(data, callback);
        },
        final(callback) {
          client.end();
          callback();
        },
      });
      const rest = firstFromClient.rest();
      if (rest.length) wire.push(Buffer.from(rest));
      client.on('data', (data: Buffer) => wire.push(data));
      client.on('end', () => wire.push(null));
      const secure = new tls.TLSSocket(wire as unknown as net.Socket, { isServer: true, key: certificates.key, cert: certificates.cert });
      secure.on('error', closeBoth);
      secure.once('secure', () => {
        secured();
        relay(secure);
      });
    };

    // 3. The handshake continues over TLS one packet number ahead of what the plain server saw.
    const relay = (secure: tls.TLSSocket): void => {
      const fromClient = new PacketReader();
      let authenticating = true;
      let first = true;
      secure.on('data', (chunk: Buffer) => {
        if (!authenticating) {
          backend.write(chunk);
          return;
        }
        for (const packet of fromClient.push(chunk)) {
          if (first) {
            packet.writeUInt32LE(packet.readUInt32LE(4) & ~CLIENT_SSL, 4);
            first = false;
          }
          packet[3] = ((packet[3] as number) + 255) % 256;
          backend.write(packet);
        }
      });
      backend.on('data', (chunk: Buffer) => {
        if (!authenticating) {
          secure.write(chunk);
          return;
        }
        for (const packet of fromServer.push(chunk)) {
          packet[3] = ((packet[3] as number) + 1) % 256;
          // OK (0x00) or ERR (0xff) ends the authentication phase; 0xfe / 0x01 continue it.
          if (packet[4] === 0x00 || packet[4] === 0xff) authenticating = false;
          secure.write(packet);
        }
        if (!authenticating) {
          const rest = fromServer.rest();
          if (rest.length) secure.write(rest);
        }
      });
      backend.resume();
    };
  });
}
