import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commands } from '../../../src/cli/commands/index.js';
import { commandsFor, LAZY_FIRST_WORDS } from '../../../src/cli/commands/lazy.js';

describe('CLI: each call loads only the module of its command', () => {
  test('the table knows every first word and no other', () => {
    const firstWords = [...new Set(commands.map((c) => c.words[0]))].sort();
    assert.deepEqual([...LAZY_FIRST_WORDS].sort(), firstWords);
  });

  test('every command is found by its own words, as the same object, without loading every command', async () => {
    for (const command of commands) {
      const some = await commandsFor([...command.words, '--help']);
      assert.ok(some.includes(command), command.words.join(' '));
      assert.ok(some.length < commands.length, `${command.words.join(' ')} loaded every command`);
    }
  });

  test('help, a typo and a group name alone get every command (help and suggestions see all)', async () => {
    for (const argv of [[], ['--help'], ['help'], ['stauts'], ['monitor'], ['config'], ['node', 'standy']])
      assert.equal((await commandsFor(argv)).length, commands.length, argv.join(' '));
  });
});
