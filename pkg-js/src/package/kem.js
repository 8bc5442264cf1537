// ML-KEM key pairs for packages' 'ml-kem' entries (FIPS 203, in the package module).
import { invalid } from '../errors.js';
import { packageModule } from '../runtime.js';

/**
 * A fresh ML-KEM key pair: `decapsulationKey` (the 64-byte seed: keep it secret) and
 * `encapsulationKey` (the public key writePackage encrypts to).
 */
export async function generateKemKeyPair(parameterSet = 768) {
  if (![512, 768, 1024].includes(parameterSet)) throw invalid('parameterSet', parameterSet, '512, 768 or 1024');
  await packageModule.ready();
  const [decapsulationKey, encapsulationKey] = packageModule.sync((w) => w.kemKeyPair(parameterSet));
  return { decapsulationKey, encapsulationKey };
}
