"""The Gradio chat: conversation on the left, the cited passages on the right."""
from __future__ import annotations

import logging
from pathlib import PurePath

import gradio as gr

from ..answering.ask import QuestionError
from ..indexing.store import IndexError_
from ..answering.requests import RequestError
from .assets import PANEL_JS
from .render import (DOES_NOT_SAY, answer_html, error_html, header_html, question_html, source_panel_html,
                     human_size, status_html)
from .service import QAService
from .upload_cache import UploadCache, UploadRefused
from .uploads import ALLOWED_SUFFIXES, Uploads, UploadError

log = logging.getLogger("qa.web")
MAX_PANEL_TURNS = 30          # older answers drop out of the source panel (the chat keeps them)
MAX_SHOWN_QUESTION = 1000     # a longer (rejected) question is shown cut short

EXAMPLES = {
    "pak-us-diplomatic-relations.txt": [
        "When did Pakistan sign the Mutual Defense Assistance Agreement?",
        "Who did Bilawal Bhutto Zardari meet in New York?",
        "What did he post on Twitter afterwards?",
        "How much military aid did the USA provide between 1948 and 2016?",
        "What is the capital of Norway?",
    ],
    "gpl-3.txt": [
        "What does the GPL say about warranty?",
        "What is the Corresponding Source?",
    ],
}

PLACEHOLDER = ("**Ask a question about the indexed text.**  \nEvery answer is copied word for word from it, "
               "with the sentences it comes from cited. Click a citation to see it in context.")
TITLE = "Ask the text: cited answers"


def example_questions(summary: dict) -> list[str]:
    names = [PurePath(s["source"]).name for s in summary.get("sources", [])]
    return [q for name in names for q in EXAMPLES.get(name, [])][:6]


def try_label(summary: dict) -> str:
    """"Try:" while one document is indexed; with more, which document the example questions are about."""
    names = [PurePath(s["source"]).name for s in summary.get("sources", [])]
    about = [name for name in dict.fromkeys(names) if name in EXAMPLES]
    if len(names) > 1 and about:
        return f"**Try** (questions about {', '.join(about)}):"
    return "**Try:**"


def build_chat(service: QAService, uploads: Uploads | None = None, cache: UploadCache | None = None) -> gr.Blocks:
    """The page; with `uploads`, also the "Add a document" panel that rebuilds the index.

    `cache` is the app's upload cache (see upload_cache.py): files from the page are taken only from it.
    """
    cache = cache or UploadCache()
    summary = service.summary()
    with gr.Blocks(title=TITLE) as demo:
        header = gr.HTML(header_html(summary), elem_id="qa-header")
        shown_build = gr.State(summary.get("build_id"))     # the index the header describes
        conversation = gr.State([])     # the raw conversation, for follow-up questions
        turns = gr.State([])            # answered turns, for the source panel
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat", show_label=False, height=560, layout="bubble",
                    render_markdown=True, sanitize_html=True, allow_tags=False, latex_delimiters=[],
                    feedback_options=None, buttons=[], placeholder=PLACEHOLDER,
                )
                cache.guard(chatbot)        # its messages could name a file; none may come from outside
                with gr.Row(equal_height=True):
                    question = gr.Textbox(elem_id="qa-question", show_label=False, lines=1, max_lines=4,
                                          placeholder="Ask a question about the indexed text…",
                                          autofocus=True, scale=8)
                    ask_button = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=0, min_width=80)
                    clear_button = gr.Button("New chat", elem_id="qa-clear", scale=0, min_width=130)
                examples = example_questions(summary)
                try_markdown = gr.Markdown(try_label(summary), elem_id="qa-try", visible=bool(examples))
                if examples:
                    with gr.Row(elem_id="qa-examples"):
                        example_buttons = [gr.Button(q, size="sm", variant="secondary", min_width=120,
                                                     elem_classes=["qa-example"]) for q in examples]
                else:
                    example_buttons = []
            with gr.Column(scale=2, min_width=320):
                sources = gr.HTML(source_panel_html([]), elem_id="qa-sources", js_on_load=PANEL_JS)
        # Below both columns: on a phone the columns stack, and the sources stay next to the answers.
        if uploads is not None:
            upload, token_box, rebuild_button, status = add_document_panel(uploads, cache)

        def header_update(shown):
            """The header, its build id and the "Try" label when the index answering now is another one,
            else no change."""
            try:
                current = service.summary()
            except IndexError_:
                return gr.skip(), gr.skip(), gr.skip()
            if current.get("build_id") == shown:
                return gr.skip(), gr.skip(), gr.skip()
            return header_html(current), current.get("build_id"), try_label(current)

        def respond(message, chat, conv, answered, shown):
            """Show the question at once, then the answer; errors become a message in the chat."""
            text = message if isinstance(message, str) else ""
            chat = list(chat or [])
            if text.strip():
                shown_text = text if len(text) <= MAX_SHOWN_QUESTION else text[:MAX_SHOWN_QUESTION] + " …"
                chat.append({"role": "user", "content": question_html(shown_text)})
                yield chat, "", conv, answered, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            try:
                answer = service.ask(text, history=conv).to_dict()
            except (QuestionError, RequestError, IndexError_) as exc:
                chat.append({"role": "assistant", "content": error_html(exc)})
                yield chat, "", conv, answered, gr.skip(), *header_update(shown)
                return
            except Exception:
                log.exception("answering %r failed", text[:200])
                chat.append({"role": "assistant",
                             "content": error_html("something went wrong while answering; please try again")})
                yield chat, "", conv, answered, gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            turn = answered[-1]["turn"] + 1 if answered else 1
            chat.append({"role": "assistant", "content": answer_html(answer, turn)})
            conv = (list(conv or []) + [{"role": "user", "content": text},
                                        {"role": "assistant", "content": answer["answer"] or DOES_NOT_SAY}])
            conv = conv[-2 * MAX_PANEL_TURNS:]
            answered = (list(answered or []) + [{"turn": turn, "question": text, "answer": answer}])
            answered = answered[-MAX_PANEL_TURNS:]
            yield chat, "", conv, answered, source_panel_html(answered), *header_update(shown)

        def clear():
            return [], "", [], [], source_panel_html([])

        outputs = [chatbot, question, conversation, turns, sources, header, shown_build, try_markdown]
        clear_outputs = outputs[:5]
        chat_inputs = [chatbot, conversation, turns, shown_build]
        question.submit(respond, [question, *chat_inputs], outputs, api_visibility="private")
        ask_button.click(respond, [question, *chat_inputs], outputs, api_visibility="private")
        for button in example_buttons:
            button.click(respond, [button, *chat_inputs], outputs, api_visibility="private")
        clear_button.click(clear, None, clear_outputs, api_visibility="private")
        chatbot.clear(clear, None, clear_outputs, api_visibility="private")

        def on_load():
            current = service.summary()
            return header_html(current), current.get("build_id"), try_label(current)

        demo.load(on_load, None, [header, shown_build, try_markdown], api_visibility="private")

        if uploads is not None:
            def on_upload(path):
                """Check the file as soon as it is chosen, so a wrong one is refused before any rebuild."""
                if not path:
                    return "", gr.skip()
                try:
                    cache.received(path)            # only a file this page uploaded, whatever the page says
                    return status_html(f"{uploads.check(path)}. Click “Rebuild index” to add it.", "info",
                                       "check"), gr.skip()
                except (UploadError, UploadRefused) as exc:
                    message = str(exc)
                except Exception:
                    log.exception("checking an upload failed")
                    message = "cannot check this file; the server log has the details"
                cache.discard(path)                 # refused: not kept, and no longer offered for a rebuild
                return status_html(message, "error", "check"), None

            def on_rebuild(path, token=None):
                """Save the upload (if any), rebuild, load the new index; the header follows."""
                try:
                    uploads.check_token(token)
                except UploadError as exc:
                    if path:
                        cache.discard(path)
                    yield status_html(str(exc), "error", "rebuild"), None, gr.skip(), gr.skip(), gr.skip()
                    return
                if path:
                    try:
                        cache.received(path)
                    except UploadRefused as exc:
                        yield status_html(str(exc), "error", "rebuild"), None, gr.skip(), gr.skip(), gr.skip()
                        return
                busy = "Adding the document and rebuilding the index…" if path else "Rebuilding the index…"
                yield status_html(f"{busy} Questions are still answered meanwhile.", "busy", "rebuild"), \
                    gr.skip(), gr.skip(), gr.skip(), gr.skip()
                try:
                    result = uploads.rebuild(path or None, token=token)
                except UploadError as exc:
                    yield status_html(str(exc), "error", "rebuild"), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                    return
                except Exception:
                    log.exception("rebuilding from the chat failed")
                    yield (status_html("the rebuild failed; the server log has the details", "error", "rebuild"),
                           gr.skip(), gr.skip(), gr.skip(), gr.skip())
                    return
                finally:
                    if path:
                        cache.discard(path)         # saved in the uploads folder, refused, or failed: done with it
                current = service.summary()
                message = " ".join([result.message, *(f"Note: {w}." for w in result.warnings)])
                yield (status_html(message, "ok", "rebuild"), None, header_html(current), current.get("build_id"),
                       try_label(current))

            upload.upload(on_upload, upload, [status, upload], api_visibility="private", show_progress="hidden")
            upload.clear(lambda: "", None, status, api_visibility="private", show_progress="hidden")
            rebuild_inputs = [upload, token_box] if token_box is not None else [upload]
            rebuild_button.click(on_rebuild, rebuild_inputs, [status, upload, header, shown_build, try_markdown],
                                 api_visibility="private", show_progress="hidden")
    return demo


def add_document_panel(uploads: Uploads, cache: UploadCache):
    """The collapsed "Add a document" panel: a file, the upload token when the server needs one, a button, a
    status line."""
    kinds = ", ".join(ALLOWED_SUFFIXES)
    with gr.Accordion("Add a document", open=False, elem_id="qa-add"):
        gr.Markdown(f"Upload a text file ({kinds}; up to {human_size(uploads.limit)}) and rebuild the index: "
                    "the chat then answers from it too, without a restart. Without a file, "
                    "“Rebuild index” re-reads the documents already indexed. Everyone using this server "
                    f"is answered from what is added (at most {uploads.max_documents} documents, "
                    f"{human_size(uploads.max_bytes)}).", elem_id="qa-add-help")
        # No `file_types`: the app checks the type itself and says why in its own status line; Gradio's check
        # (in the page and on the server) answered with a toast, a red "Error" pill and a traceback.
        upload = gr.File(label="Document", file_count="single", type="filepath", elem_id="qa-upload", height=120)
        cache.guard(upload)
        token_box = None
        if uploads.token is not None:
            token_box = gr.Textbox(label="Upload token", type="password", elem_id="qa-upload-token", max_lines=1,
                                   placeholder="the token this server was started with (QA_UPLOAD_TOKEN)")
        rebuild_button = gr.Button("Rebuild index", elem_id="qa-rebuild", variant="secondary")
        status = gr.HTML("", elem_id="qa-upload-status")
    return upload, token_box, rebuild_button, status
