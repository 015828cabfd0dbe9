// piscina task file used by hand (scenario piscina): instantiates the guest once per thread and
// runs its echo on the bytes it is given, returning the result bytes.
import { loadRawGuest } from '../raw-guest.mjs';
import { FIXTURE } from '../lib.mjs';

const call = loadRawGuest(FIXTURE);

export default function echo({ bytes }) {
  return call('echo', bytes);
}
