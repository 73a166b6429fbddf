// Test certificates made with the openssl CLI at test time (P-256 keys: fast). Nothing is
// checked in; every run makes fresh ones in a temporary directory.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function openssl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A self-signed CA: returns {cert, key} paths (`name`.pem, `name`.key). */
export function makeCa(dir, name) {
  openssl(dir, [
    'req', '-x509', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '3', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`), name };
}

/**
 * A leaf certificate signed by `ca`, for 127.0.0.1 and localhost. `usage` is serverAuth or
 * clientAuth. `expired: true` makes one valid only on 2020-01-01 (through `openssl ca`, which
 * can set the dates).
 */
export function makeLeaf(dir, ca, name, { usage = 'serverAuth', expired = false } = {}) {
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, `[ext]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=${usage}\n`);
  openssl(dir, ['req', '-new', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  if (!expired) {
    openssl(dir, [
      'x509', '-req', '-in', `${name}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', `${name}.pem`,
      '-days', '2', '-extfile', ext, '-extensions', 'ext',
    ]);
  } else {
    const db = path.join(dir, `${name}-db`);
    fs.mkdirSync(db, { recursive: true });
    fs.writeFileSync(path.join(db, 'index.txt'), '');
    fs.writeFileSync(path.join(db, 'serial'), '1000\n');
    const cnf = path.join(db, 'ca.cnf');
    fs.writeFileSync(
      cnf,
      [
        '[ca]', 'default_ca = d', '[d]', `dir = ${db}`, `database = ${db}/index.txt`, `new_certs_dir = ${db}`,
        `serial = ${db}/serial`, 'default_md = sha256', 'policy = p', '[p]', 'commonName = supplied',
        '[ext]', 'subjectAltName=IP:127.0.0.1,DNS:localhost', `extendedKeyUsage=${usage}`, '',
      ].join('\n'),
    );
    openssl(dir, [
      'ca', '-batch', '-config', cnf, '-cert', ca.cert, '-keyfile', ca.key, '-in', `${name}.csr`, '-out', `${name}.pem`,
      '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extensions', 'ext', '-notext',
    ]);
  }
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`), name };
}
