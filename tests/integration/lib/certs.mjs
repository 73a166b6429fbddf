// Certificates made with the `openssl` command at test time (nothing checked in): a CA, a
// server certificate for 127.0.0.1/localhost, a client certificate, a second unrelated CA
// with its own client and server certificates, expired server and client certificates,
// and a server certificate for a DNS name only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function openssl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A self-signed CA: {crt, key} paths. */
function makeCa(dir, name) {
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=outrigger test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { crt: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

/** A leaf signed by `ca`; days < 0 makes it expired. */
function makeLeaf(dir, ca, name, { days = 2, server = false, san = 'IP:127.0.0.1,DNS:localhost' } = {}) {
  openssl(dir, [
    'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${server ? 'localhost' : name}`,
  ]);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(
    ext,
    server
      ? `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`
      : 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n',
  );
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', ca.crt, '-CAkey', ca.key, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', String(days), '-extfile', ext,
  ]);
  return { crt: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

/** Every certificate the TLS tests use, under `dir`. */
export function makeCerts(dir) {
  const ca = makeCa(dir, 'ca');
  const otherCa = makeCa(dir, 'other-ca');
  return {
    ca,
    otherCa,
    server: makeLeaf(dir, ca, 'server', { server: true }),
    expiredServer: makeLeaf(dir, ca, 'expired-server', { server: true, days: -1 }),
    client: makeLeaf(dir, ca, 'client'),
    expiredClient: makeLeaf(dir, ca, 'expired-client', { days: -1 }),
    otherClient: makeLeaf(dir, otherCa, 'other-client'),
    // Signed by the other CA: what a rotation to a new CA serves.
    otherServer: makeLeaf(dir, otherCa, 'other-server', { server: true }),
    // Only a DNS name (no IP): reached at 127.0.0.1 it needs server_name_override.
    namedServer: makeLeaf(dir, ca, 'named-server', { server: true, san: 'DNS:collector.outrigger.test' }),
  };
}
