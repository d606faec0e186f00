import { ensureHostImage } from './lib/host-image.js';

console.log(await ensureHostImage());
