// The seeded generator for reproducible test plans. Its source is plain JavaScript in
// scripts/seeded-random.mjs so that scripts run by plain `node` (npm run soak) share it.
export { seededRandom, type SeededRandom } from '../scripts/seeded-random.mjs';
