// Local helper entry (exit role). Placeholder replaced once link and tun land.
import { VERSION } from "../shared/version.js";
process.stdout.write(`backhaul-helper ${VERSION}\n`);
