"""Letters playground: type letters of "abcde" (or click them) and see, after every letter, the model's
probability for each next letter, its pick, and the hidden state that carried the letters so far."""

import streamlit as st

from app import run_access, session
from app.inside.figure import CAPTION, fig_inside
from app.playgrounds import letters, live_typing
from rnn_core.tasks.letters import ALPHABET, check_input, patterns

MAX_SHOWN = 24  # letters read by the page; beyond this the bars would be too small to read


def _set(text: str) -> None:
    st.session_state[session.LETTERS_TEXT] = text


st.title("Letters playground")
st.write(
    "The smallest network in the lab: a recurrent cell with a handful of units, trained to say which letter of "
    "a, b, c, d, e comes next. The 1-letter model learned a→b, b→c, c→d, d→e from single letters; the 4-letter "
    "model reads four letters of the cycle abcdeabcde… and names the fifth. Type letters or click them: after "
    "every letter you see how sure the model is of each next letter, and the hidden state — the only thing it "
    "carries from one letter to the next."
)

run = run_access.pick_run("letters", session.LETTERS_RUN, "No letters model yet. Train one on the Train page (task "
                          "letters), or from a terminal: `python -m rnn_core train --task letters --preset seed`.")
variant = run.task.options.get("variant", "1in")
learned = ", ".join(f"{a}→{b}" for a, b in patterns(variant))
st.caption(f"This model ({'4 letters in' if variant == '4in' else '1 letter in'}) was trained on: {learned}.")

st.session_state.setdefault(session.LETTERS_TEXT, "abcd" if variant == "4in" else "a")
with st.container(horizontal=True, vertical_alignment="bottom"):
    for ch in ALPHABET:
        st.button(ch, key=f"letter_{ch}", on_click=lambda c=ch: _set(st.session_state[session.LETTERS_TEXT] + c))
    st.button("⌫", key="letters_back", help="Remove the last letter",
              on_click=lambda: _set(st.session_state[session.LETTERS_TEXT][:-1]))
    st.button("Clear", key="letters_clear", on_click=_set, args=("",))
    for example in ("abcd", "bcde", "cdea", "aaaa"):
        st.button(example, key=f"example_{example}", type="tertiary", on_click=_set, args=(example,))
text = st.text_input("Letters", key=session.LETTERS_TEXT, placeholder="type a, b, c, d or e…", max_chars=200)
live_typing.follow_typing(session.LETTERS_TEXT, delay_ms=150)  # a letter is a whole input: answer each at once

ok, bad = check_input(text)
if bad:
    st.html(letters.letters_html(text))
    st.warning(f"{', '.join(repr(c) for c in bad)} {'is' if len(bad) == 1 else 'are'} not in the model's "
               f"alphabet ({', '.join(ALPHABET)}): struck out above and left out of what it reads.",
               icon=":material/block:")
if not ok:
    st.info("Type or click at least one letter from a to e.", icon=":material/keyboard:")
    st.stop()
if len(ok) > MAX_SHOWN:
    st.caption(f"Only the last {MAX_SHOWN} of your {len(ok)} letters are read.")
    ok = ok[-MAX_SHOWN:]

layer = run_access.pick_layer(run, "letters_layer")
rep = run_access.replay(run.model, run.task, "".join(ok), target=letters.next_in_cycle(ok, variant))
pred = rep.prediction
k = int(pred.values[-1].argmax())
cols = st.columns(3)
cols[0].metric("Letters read", "".join(ok))
cols[1].metric("Next letter", ALPHABET[k], f"{pred.values[-1, k]:.0%} sure", delta_color="off", delta_arrow="off")
if variant == "4in" and len(ok) != 4:
    cols[2].caption("This model was trained on exactly 4 letters: after any other number its answer is a guess "
                    "from patterns it never saw.")
elif variant == "1in" and len(ok) > 1:
    cols[2].caption("This model was trained on single letters: after the first, it answers from a state it never "
                    "saw in training.")

st.subheader("Next-letter probabilities after every letter")
st.plotly_chart(letters.fig_letter_bars(ok, pred.values, pred.target), key="letters_bars",
                config={"displaylogo": False})
st.caption("How to read this: one chart per letter read, left to right. Each bar is the model's probability that "
           "this letter comes next; the dark bar is its pick (named in the title), and the orange outline marks "
           "the letter that follows in abcde (none after e for the 1-letter model).")

st.subheader("The hidden state that carried it")
st.plotly_chart(fig_inside(rep, layer, input_names=list(ALPHABET), prediction_title="p(next)",
                           quantities=("h",) if rep.cell == "rnn" else None), key="letters_inside",
                config={"displaylogo": False})
st.caption(CAPTION + " The input row shows which letter was read (dark = the letter), and the p(next) row the "
           "same probabilities as the bars above; ○ marks the letter that follows in abcde.")
