import { writeFileSync } from 'node:fs';
import { execPathCapture, manyExecs } from '../test/helpers/exec-paths.js';
writeFileSync('/tmp/pw/bench.pcapng', execPathCapture(manyExecs(1000, { spacingUs: 2_000 })));
