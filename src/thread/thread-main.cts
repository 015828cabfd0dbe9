/**
 * The file piscina loads in each thread. piscina tries `require()` first, and on Node 20 a
 * `require()` of an ES module can abort the whole process (a fatal V8 error,
 * "Module::IsGraphAsync must be used on an instantiated module"). So piscina gets this CommonJS
 * file, which imports the ES module entry; piscina awaits the exported promise of the handler.
 */
module.exports = import('./thread-entry.js').then((entry) => entry.default);
