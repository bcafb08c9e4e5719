// The dialog shown when a save conflicts with a colleague's edit of the same
// elements: keep theirs, keep mine, or keep both (mine as a new element).
import { conflictText, type ConflictAnswer, type Resolution } from '../lib/merge-logic';
import { h } from '../ui/dom';
import { openDialog } from '../ui/modal';
import { elementName } from './features';

/** Ask how to settle the conflict; closing the dialog keeps theirs (nothing of theirs is lost). */
export function conflictDialog(annotationName: string, answer: ConflictAnswer): Promise<Resolution> {
  return new Promise((resolve) => {
    let answered = false;
    const d = openDialog(`Conflicting edit in "${annotationName}"`, { onClose: () => !answered && resolve('theirs') });
    d.el.classList.add('conflict-dialog');
    const rows = answer.conflicts.slice(0, 20).map((c) => {
      const el = c.theirs ?? c.mine ?? c.base;
      const what = el ? elementName(el) : 'element';
      const state = !c.theirs ? 'they deleted it' : !c.mine ? 'you deleted it' : 'both changed it';
      return h('li', null, `${what} — ${state}`);
    });
    d.body.append(h('p', null, conflictText(answer)), h('ul.conflict-list', null, rows),
      h('p.muted', null, 'Keep both adds your version as a new element next to theirs.'));
    const choose = (choice: Resolution) => () => {
      answered = true;
      d.close();
      resolve(choice);
    };
    const theirs = h('button.button', { 'data-choice': 'theirs', onclick: choose('theirs') }, 'Keep theirs');
    d.footer.append(theirs,
      h('button.button', { 'data-choice': 'both', onclick: choose('both') }, 'Keep both'),
      h('button.button.primary', { 'data-choice': 'mine', onclick: choose('mine') }, 'Keep mine'));
    theirs.focus();
  });
}
