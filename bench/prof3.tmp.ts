import bench from './paths.bench.js';
await bench.run();
