import type { Command } from '../command.js';
import { configValidate } from './config-validate.js';

/** Every CLI command, listed by hand (help shows them in this order). */
export const commands: Command[] = [configValidate];
