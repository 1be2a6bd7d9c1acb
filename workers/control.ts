import { runFleetWorker } from './run';

runFleetWorker('control').catch((err) => {
  console.error(err);
  process.exit(1);
});
