import { runFleetWorker } from './run';

runFleetWorker('cpu').catch((err) => {
  console.error(err);
  process.exit(1);
});
