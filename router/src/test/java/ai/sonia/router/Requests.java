package ai.sonia.router;


import ai.sonia.router.v1.ChatMessage;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.Role;

/** Small builders and error readers shared by the router tests. */
final class Requests {

    static ChatMessage user(String text) {
        return ChatMessage.newBuilder().setRole(Role.ROLE_USER).setContent(text).build();
    }

    static ChatRequest ask(String model, String text) {
        return ChatRequest.newBuilder().setModel(model).addMessages(user(text)).build();
    }

    private Requests() {}
}
