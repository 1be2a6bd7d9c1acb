import { runFleetWorker } from './run';

runFleetWorker('gpu').catch((err) => {
  console.error(err);
  process.exit(1);
});
