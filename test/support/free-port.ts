// The tests use the same port helpers as the actions.
export { freePort, isPortOpen } from '../../actions/lib/free-port.js';
