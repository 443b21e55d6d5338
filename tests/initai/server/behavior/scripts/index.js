// A small Init.ai logic script: greet, learn the user's name, offer a menu with replies,
// answer a postback with a text template, and one stream that never calls done().
'use strict'

exports.handle = function handle(client) {
  const askName = client.createStep({
    satisfied() {
      return Boolean(client.getConversationState().userName)
    },

    extractInfo() {
      const name = client.getFirstEntityWithRole(client.getMessagePart(), 'name')
      if (name) {
        client.updateConversationState({userName: name.value})
      }
    },

    prompt() {
      client.addResponse('ask/name')
      client.expect('hello', ['provide/name', 'greeting'])
      client.done()
    },
  })

  const greet = client.createStep({
    satisfied() {
      return false
    },

    prompt() {
      const state = client.getConversationState()
      const name = state.userName
      const greetCount = (state.greetCount || 0) + 1
      client.updateConversationState({greetCount: greetCount})
      if (greetCount === 1) {
        client.addResponse('greeting/by_name', {'string/name': name})
        client.addTextResponse(`Nice to meet you, ${name}!`)
        const userId = client.getMessagePart().sender.id
        client.updateUser(userId, 'first_name', name)
        client.updateUser(userId, 'metadata', {greetedBy: 'initai-logic'})
      } else {
        client.addTextResponse(`Welcome back, ${name}! That makes ${greetCount} greetings.`)
      }
      client.done()
    },
  })

  const menu = client.createStep({
    satisfied() {
      return false
    },

    prompt() {
      client.addResponseWithReplies('menu/offer', null, [
        client.makeReplyButton('Pizza', null, 'pick', {dish: 'pizza'}),
        client.makeReplyButton('Salad', null, 'pick', {dish: 'salad'}),
      ])
      client.done()
    },
  })

  const pick = client.createStep({
    satisfied() {
      return false
    },

    prompt() {
      const dish = client.getPostbackData().dish
      client.updateConversationState({dish: dish})
      client.addTextTemplateResponse('One {{.Dish}} for {{.Name}}, coming up.', {
        Dish: dish,
        Name: client.getConversationState().userName || 'you',
      })
      client.addSuggestion({text: `Upsell a drink with the ${dish}`})
      client.done()
    },
  })

  const silence = client.createStep({
    satisfied() {
      return false
    },

    prompt() {
      // forgets client.done(): no result is ever posted
    },
  })

  const fallback = client.createStep({
    satisfied() {
      return false
    },

    prompt() {
      client.addTextResponse("I didn't get that.")
      client.done()
    },
  })

  client.runFlow({
    classifications: {
      greeting: 'hello',
      'provide/name': 'hello',
      'order/menu': 'menu',
      silence: 'silence',
    },
    streams: {
      main: 'fallback',
      hello: [askName, greet],
      menu: [menu],
      pick: [pick],
      silence: [silence],
      fallback: [fallback],
      end: [fallback],
    },
  })
}
