// Remote agent entry (entrance role). Placeholder replaced once link and tun land.
import { VERSION } from "../shared/version.js";
process.stdout.write(`backhaul-agent ${VERSION}\n`);
