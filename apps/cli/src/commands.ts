// Every command, by id: oclif's "explicit" strategy loads this one module instead of scanning a folder.
import Doctor from './commands/doctor.js';

export const COMMANDS = {
  doctor: Doctor,
};
