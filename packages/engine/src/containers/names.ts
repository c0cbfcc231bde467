// Names for containers started without --name, in docker's adjective_noun style.
import { randomInt } from 'node:crypto';

const ADJECTIVES = ['brave', 'calm', 'eager', 'fervent', 'gallant', 'happy', 'jolly', 'keen', 'lucid', 'modest', 'nifty', 'quirky', 'serene', 'tender', 'vibrant', 'wizardly', 'zealous', 'bold', 'clever', 'dazzling'];
const NOUNS = ['babbage', 'curie', 'dijkstra', 'euler', 'feynman', 'gauss', 'hopper', 'knuth', 'lamport', 'lovelace', 'noether', 'pike', 'ritchie', 'shannon', 'thompson', 'turing', 'wirth', 'yalow', 'hamilton', 'liskov'];

/** `serene_knuth`; with `suffix`, a number is appended (after collisions, as docker does). */
export function randomName(suffix = false): string {
  const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}`;
  return suffix ? `${name}${randomInt(10)}` : name;
}
